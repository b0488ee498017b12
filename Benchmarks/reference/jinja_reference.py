"""The reference for the template benchmark: Jinja2 rendering the reference email's Jinja twin.

Prints: renders_per_s=<rate>   usage: jinja_reference.py DIRECTORY SECONDS
"""
import json
import sys
import time

import jinja2

directory, seconds = sys.argv[1], float(sys.argv[2])
env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory), autoescape=False)
template = env.get_template("email.jinja")
with open(f"{directory}/context.json", encoding="utf-8") as f:
    context = json.load(f)
template.render(**context)  # warm up
best = 0.0
for _ in range(3):
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            template.render(**context)
        n += 100
    best = max(best, n / (time.perf_counter() - start))
print(f"renders_per_s={best:.0f}")
