"""Writes the spreadsheet fixtures of ImportsTests with real spreadsheet writers (xlwt for .xls,
XlsxWriter for .xlsx; both from PyPI).

    .stack/venv/bin/pip install xlwt xlsxwriter && .stack/venv/bin/python Tests/ImportsTests/Fixtures/make_fixtures.py
"""
import datetime
import os

import xlsxwriter
import xlwt

here = os.path.dirname(os.path.abspath(__file__))
book = xlwt.Workbook(encoding="utf-8")
sheet = book.add_sheet("Контакты")
date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
rows = [
    ["email", "first_name", "city", "orders", "spent", "birthday"],
    ["ann@example.com", "Анна", "Москва", 3, 1534.75, datetime.date(1990, 1, 15)],
    ["bob@example.com", "Bob", "Köln", 0, 0, None],
    ["cid@example.com", "", "Berlin", 12, 99.5, datetime.date(1985, 12, 31)],
]
for r, row in enumerate(rows):
    for c, value in enumerate(row):
        if value is None:
            continue
        if isinstance(value, datetime.date):
            sheet.write(r, c, value, date_style)
        else:
            sheet.write(r, c, value)
book.add_sheet("Empty")
book.save(os.path.join(here, "contacts.xls"))

workbook = xlsxwriter.Workbook(os.path.join(here, "contacts.xlsx"))
sheet = workbook.add_worksheet("Контакты")
date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
for r, row in enumerate(rows):
    for c, value in enumerate(row):
        if value is None:
            continue
        if isinstance(value, datetime.date):
            sheet.write_datetime(r, c, datetime.datetime.combine(value, datetime.time()), date_format)
        else:
            sheet.write(r, c, value)
sheet.write_boolean(5, 0, True)  # a row after a skipped one
workbook.add_worksheet("Empty")
workbook.close()
