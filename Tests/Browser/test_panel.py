"""Browser tests of the control panel: Debian's chromium and chromium-driver, driven by selenium.

Starts the built `control` on a free loopback port with a fresh settings database, then walks
what an administrator and a user do, keeping a screenshot of every step in .artifacts/browser/.
Run by `make test` (deploy/dev/test.sh); alone: .stack/venv/bin/python Tests/Browser/test_panel.py
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(ROOT, ".artifacts", "browser")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Panel:
    def __init__(self, control):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(ARTIFACTS, "control.log")
        env = dict(os.environ)
        env.update({
            "HERALD_MONGO_SETTINGS_URI": os.environ.get("HERALD_TEST_MONGO_SETTINGS_URI", "mongodb://127.0.0.1:27051"),
            "HERALD_MONGO_CUSTOMERS_URI": os.environ.get("HERALD_TEST_MONGO_CUSTOMERS_URI", "mongodb://127.0.0.1:27052"),
            "HERALD_AMQP_URL": os.environ.get("HERALD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672"),
            "HERALD_MONGO_SETTINGS_DATABASE": "t_browser_" + uuid.uuid4().hex[:8],
            "HERALD_CONTROL_BCRYPT_COST": "4",
            "HERALD_TRACKING_SECRET": "browser-tests-tracking-secret-0123456789abcdef",
        })
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([control, "--http-host", "127.0.0.1", "--http-port", str(self.port)],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=env)
        # job-server runs the imports the panel queues (same stores, same broker).
        self.jobs_log = open(os.path.join(ARTIFACTS, "job-server.log"), "w")
        self.jobs = subprocess.Popen([os.path.join(os.path.dirname(control), "job-server"), "--http-host", "127.0.0.1", "--http-port", str(free_port())],
                                     stdout=self.jobs_log, stderr=subprocess.STDOUT, env=env)
        self.one_time_password = None
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(self.log_path) as f:
                match = re.search(r"one_time_password=(\S+)", f.read())
            if match and self.answers():
                self.one_time_password = match.group(1)
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"control did not start or print its first-run password; see {self.log_path}")

    def answers(self):
        try:
            return urllib.request.urlopen(self.base + "/health", timeout=1).status == 200
        except OSError:
            return False

    def stop(self):
        for process in (self.process, self.jobs):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.log.close()
        self.jobs_log.close()


class Run:
    def __init__(self, panel):
        self.panel = panel
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US"]:
            options.add_argument(argument)
        options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.implicitly_wait(5)
        self.step_number = 0

    def step(self, name):
        self.step_number += 1
        path = os.path.join(ARTIFACTS, f"{self.step_number:02d}-{name}.png")
        self.driver.save_screenshot(path)
        print(f"  ok {self.step_number:02d} {name}")

    def open(self, path):
        self.driver.get(self.panel.base + path)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def ready(self):
        WebDriverWait(self.driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")

    def retrying(self, action):
        """Runs an action on the page again when the page was still being replaced under it."""
        for attempt in range(5):
            try:
                return action()
            except (StaleElementReferenceException, WebDriverException) as error:
                if attempt == 4 or not ("stale" in str(error).lower() or "does not belong to the document" in str(error)):
                    raise
                time.sleep(0.2)
                self.ready()

    def submit(self, css):
        """Clicks a button that loads a new page, and waits until the new page is there."""
        self.ready()
        page = self.find("html")
        self.retrying(lambda: self.click(self.find(css)))
        WebDriverWait(self.driver, 10).until(expected_conditions.staleness_of(page))
        self.ready()

    def click(self, element):
        """Clicks a shown element deep in a long page (chromedriver's own scrolling misplaces
        the click below the fold of the editor page, so the click is the element's own)."""
        assert element.is_displayed(), element.get_attribute("outerHTML")[:200]
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", element)

    def select(self, element, value):
        """Chooses an option of a shown select deep in a long page, as a person's choice does:
        the value changes and the page hears the change."""
        assert element.is_displayed(), element.get_attribute("outerHTML")[:200]
        assert value in [option.get_attribute("value") for option in element.find_elements(By.TAG_NAME, "option")], value
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].value = arguments[1];"
                                   "arguments[0].dispatchEvent(new Event('change', {bubbles: true}))", element, value)

    def choose(self, css, value):
        self.ready()
        self.retrying(lambda: Select(self.find(css)).select_by_value(value))

    def text(self):
        return self.find("body").text

    def fill(self, values):
        for element_id, value in values.items():
            field = self.find("#" + element_id)
            field.clear()
            field.send_keys(value)

    def log_in(self, login, password):
        self.open("/login")
        self.fill({"login": login, "password": password})
        self.submit("#submit")

    def log_out(self):
        self.submit("#logout")
        assert "/login" in self.driver.current_url, self.driver.current_url

    def check(self, condition, message):
        if not condition:
            self.step("FAILED")
            raise AssertionError(f"{message} (at {self.driver.current_url})")


def scenario(run):
    admin_password = "Orchid-Lantern-47"

    # Wrong password, then the first login with the one-time password and the forced change.
    run.log_in("admin", "not-the-password")
    run.check("Wrong login or password." in run.text(), "a wrong password is refused with a message")
    run.step("wrong-password")
    run.log_in("admin", run.panel.one_time_password)
    run.check(run.driver.current_url.endswith("/password/change"), "the first login goes to the password change")
    run.check(run.find("#forced").is_displayed(), "the forced-change notice is shown")
    run.step("forced-password-change")
    run.fill({"current": run.panel.one_time_password, "new": "short", "confirmation": "short"})
    run.submit("#submit")
    run.check("at least 10 characters" in run.text(), "the policy is explained")
    run.fill({"current": run.panel.one_time_password, "new": admin_password, "confirmation": admin_password})
    run.submit("#submit")
    run.check("Your password has been changed." in run.text(), "the change is confirmed on the dashboard")
    run.step("dashboard")

    # Lockout after three failures: set the policy first.
    run.open("/settings/security")
    run.fill({"lockoutAttempts": "3", "lockoutMinutes": "15"})
    run.submit("#save-security")
    run.check("Saved." in run.text(), "the security settings are saved")
    run.step("security-settings")

    # A custom role and a user who has only it.
    run.open("/settings/roles/new")
    run.fill({"role-name": "Audit reader", "role-description": "Reads the audit log"})
    run.find("input[value='audit:view']").click()
    run.find("input[value='reports:view']").click()
    run.step("role-editor")
    run.submit("#save-role")
    run.check("Audit reader" in run.find("#roles").text, "the role is listed")
    run.open("/settings/users")
    run.fill({"new-login": "rita@main.test", "new-name": "Rita Auditor", "new-password": "Amber-Field-31"})
    Select(run.find("#new-roles")).select_by_visible_text("Audit reader")
    run.submit("#create-user")
    run.check("User rita@main.test created." in run.text(), "the user is created")
    run.fill({"new-login": "leo@main.test", "new-name": "Leo Locked", "new-password": "Quiet-River-88"})
    run.submit("#create-user")
    run.check("rita@main.test" in run.find("#users").text and "leo@main.test" in run.find("#users").text, "both users are listed")
    run.step("users")
    run.log_out()

    for attempt in range(3):
        run.log_in("leo@main.test", "guess-%d" % attempt)
    run.check("locked for 15 more minutes" in run.text(), "the third failure locks the user")
    run.log_in("leo@main.test", "Quiet-River-88")
    run.check("locked" in run.text() and "/login" in run.driver.current_url, "even the right password is refused while locked")
    run.step("lockout")

    # The role's user sees what it allows, and a clear 403 for the rest.
    run.log_in("rita@main.test", "Amber-Field-31")
    run.check("Audit log" in run.find("nav").text and "Users" not in run.find("nav").text, "the menu shows only what the role allows")
    run.open("/settings/users")
    run.check(run.find("#error-page").is_displayed() and "users:view" in run.text(), "a forbidden page says which permission is missing")
    run.step("forbidden")

    # Language switch to Russian and back.
    run.open("/")
    run.choose("#language", "ru")
    run.submit("#language-apply")
    run.check(run.find("html").get_attribute("lang") == "ru" and "Журнал аудита" in run.find("nav").text, "the interface is in Russian")
    run.step("russian")
    run.choose("#language", "en")
    run.submit("#language-apply")
    run.check(run.find("html").get_attribute("lang") == "en" and "Audit log" in run.find("nav").text, "the interface is back in English")
    run.log_out()

    # Phone width: the menu collapses behind its toggler.
    run.log_in("admin", admin_password)
    run.driver.set_window_size(390, 844)
    run.open("/settings/users")
    run.check(run.find(".navbar-toggler").is_displayed(), "the menu collapses on a phone")
    run.check(run.driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1"), "no horizontal scrolling on a phone")
    run.step("phone-width")
    run.driver.set_window_size(1280, 900)

    # A profile database, a file uploaded by the page's script, its mapping, the import, the card.
    run.open("/databases")
    run.fill({"database-name": "Shop customers", "database-description": "from the web shop"})
    run.submit("#create-database")
    run.check("<code>email</code>" in run.driver.page_source, "a new database has the default fields")
    run.step("database-schema")
    run.find("#open-profiles").click()
    run.find("#open-imports").click()
    upload = os.path.join(ARTIFACTS, "customers.csv")
    with open(upload, "w", encoding="cp1251", newline="") as f:
        f.write("E-mail;Имя;Телефон\r\nanna@example.com;Анна;+7 912 000-00-01\r\nbroken-address;Борис;+7 912 000-00-02\r\nvera@example.com;Вера;+7 912 000-00-03\r\n")
    run.find("#upload-file").send_keys(upload)
    page = run.find("html")
    run.find("#upload-button").click()
    WebDriverWait(run.driver, 15).until(expected_conditions.staleness_of(page))
    run.check(run.find("#mapping-form").is_displayed() and "Анна" in run.find("#preview").text, "the upload leads to the mapping with a decoded preview")
    run.step("import-mapping")
    run.submit("#start-import")
    run.check(run.find("#import-state").get_attribute("data-state") in ("queued", "running", "succeeded"), "the import is queued")
    import_path = run.driver.current_url.replace(run.panel.base, "")
    for _ in range(100):
        run.open(import_path)
        if run.find("#import-state").get_attribute("data-state") in ("succeeded", "failed"):
            break
        time.sleep(0.3)
    run.check(run.find("#import-state").get_attribute("data-state") == "succeeded", "job-server ran the import")
    run.check(run.find("#count-created").text == "2" and run.find("#count-rejected").text == "1", "two rows imported, the bad one rejected")
    run.step("import-done")
    run.open(import_path.split("/imports/")[0] + "/profiles")
    run.check("anna@example.com" in run.find("#profiles").text, "the imported profiles are listed")
    run.step("profiles")
    run.driver.find_element(By.LINK_TEXT, "Анна").click()
    run.check(run.find("#profile-title").text == "Анна" and "profile.created" in run.find("#timeline").text, "the card shows the profile and its history")
    run.step("profile-card")
    card_path = run.driver.current_url.replace(run.panel.base, "").split("?")[0]

    # A segment built with the visual builder: the example rule names a field this database does
    # not have, the error shows at once; rebuilt as "e-mail contains anna", the live count is 1.
    segments_path = import_path.split("/imports/")[0] + "/segments"
    run.open(segments_path)
    run.ready()
    WebDriverWait(run.driver, 10).until(lambda d: "city" in d.find_element(By.CSS_SELECTOR, "#segment-rule-preview").text)
    run.check(run.find(".builder-errors").is_displayed(), "the builder shows the rule's errors at their place")
    run.step("segment-builder-error")
    run.choose("#segment-rule-builder .rule-condition .rule-field", "email")
    run.choose("#segment-rule-builder .rule-condition .rule-op", "contains")
    run.retrying(lambda: run.find("#segment-rule-builder .rule-condition .rule-value").send_keys("anna"))
    rows = run.driver.find_elements(By.CSS_SELECTOR, "#segment-rule-builder .rule-condition")
    run.check(len(rows) == 2, "the example rule has two conditions")
    rows[1].find_element(By.CSS_SELECTOR, "button.btn-link").click()
    WebDriverWait(run.driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "#segment-rule-preview").text.startswith("1 "))
    run.check("Анна" in run.find(".builder-sample").text, "the live sample shows the matching profile")
    run.step("segment-builder-count")
    run.fill({"segment-name": "Anna"})
    run.submit("#create-segment")
    run.check(run.find("#segment-count strong").text == "1" and "Анна" in run.find("#segment-sample").text, "the saved segment counts its profile")
    run.step("segment-saved")

    # An email built with the block builder, previewed as a profile, saved as a new version.
    run.open("/templates")
    run.fill({"template-name": "Welcome"})
    run.choose("#template-channel", "email")
    run.ready()
    Select(run.find("#template-database")).select_by_visible_text("Shop customers")
    run.submit("#create-template")
    run.check(run.find("#template-version").text == "v1", "a new template is version 1")
    WebDriverWait(run.driver, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#block-builder .builder-row")) == 3)
    run.retrying(lambda: run.click(run.find('#block-builder .add-row[data-columns="2"]')))
    WebDriverWait(run.driver, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#block-builder .builder-row")) == 4)
    columns = run.driver.find_elements(By.CSS_SELECTOR, "#block-builder .builder-row")[3].find_elements(By.CSS_SELECTOR, ".builder-column")
    run.check(len(columns) == 2, "the new row has two columns")
    run.select(columns[0].find_element(By.CSS_SELECTOR, ".add-block"), "button")
    label = WebDriverWait(run.driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "#prop-label"))
    run.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
    label.clear()
    label.send_keys("Buy skis")
    run.driver.execute_script("window.scrollTo(0, 0)")
    Select(run.find("#preview-profile")).select_by_visible_text("Анна")
    def previewed(d):
        frames = d.find_elements(By.CSS_SELECTOR, "#preview-frame")
        return frames and "Анна" in (frames[0].get_attribute("srcdoc") or "") and "Buy skis" in (frames[0].get_attribute("srcdoc") or "")
    WebDriverWait(run.driver, 15).until(previewed)
    run.check("Анна" in run.find("#preview").text, "the preview names the profile it shows")
    run.step("template-block-builder")
    run.submit("#save-template")
    run.check(run.find("#template-version").text == "v2" and run.find("#notice").is_displayed(), "saving makes version 2")
    run.check("Buy skis" in run.find("#f-design").get_attribute("value"), "the saved design has the new button")
    run.step("template-saved")
    template_path = run.driver.current_url.replace(run.panel.base, "").split("?")[0]

    # A campaign to the segment: the template has no sender yet, which the campaign says; with
    # one, the draft is made, scheduled for a day next year, and the calendar shows it.
    run.open("/campaigns")
    run.fill({"campaign-name": "Spring sale"})
    Select(run.find("#campaign-segment")).select_by_visible_text("Shop customers · Anna")
    Select(run.find("#campaign-template")).select_by_visible_text("Welcome")
    run.submit("#campaign-create")
    run.check("no sender address" in run.find("#campaign-error").text, "a template without a sender address cannot be sent")
    run.step("campaign-needs-sender")
    run.open(template_path)
    run.ready()
    run.driver.execute_script("document.getElementById('f-fromAddress').value = 'news@shop.test'")
    run.submit("#save-template")
    run.open("/campaigns")
    run.fill({"campaign-name": "Spring sale"})
    Select(run.find("#campaign-segment")).select_by_visible_text("Shop customers · Anna")
    Select(run.find("#campaign-template")).select_by_visible_text("Welcome")
    run.submit("#campaign-create")
    run.check(run.find("#campaign-status").text == "draft", "a new campaign is a draft")
    run.step("campaign-draft")
    next_year = time.gmtime().tm_year + 1
    run.driver.execute_script("document.querySelector('#campaign-actions input[name=at]').value = arguments[0]", f"{next_year}-01-15T10:00")
    run.submit("#campaign-launch")
    run.check(run.find("#campaign-status").text == "scheduled", "launched for a later time, the campaign is scheduled")
    run.open(f"/campaigns/calendar?month={next_year}-01")
    run.check("Spring sale" in run.find("#calendar").text, "the calendar shows the planned sending")
    run.step("campaign-calendar")

    # The sender's settings: a sending domain gets a DKIM key, and its DNS record is shown.
    run.open("/settings/delivery")
    run.find("#sending-domain-new input[name=domain]").send_keys("shop.test")
    run.submit("#sending-domain-new button")
    run.check("herald1._domainkey.shop.test" in run.find("#sending-domains").text and "v=DKIM1; k=rsa" in run.find("#sending-domains").text,
              "a new sending domain shows the DNS record of its key")
    run.step("sending-domain")

    # Promo codes: a pool with pasted codes (the bad line reported by its number); Анна's card
    # issues one of them and lists it.
    run.open("/promo-codes")
    run.find("#promo-pool-new input[name=name]").send_keys("Welcome codes")
    run.submit("#promo-pool-new button")
    run.check("Welcome codes" in run.find("#promo-pools").text, "the new pool is listed")
    run.click(run.find("#promo-pools details summary"))
    run.find("#promo-pools details textarea[name=codes]").send_keys("SPRING-1\nSPRING-2\nbad code!")
    run.submit("#promo-pools details form button")
    result = run.find("#promo-result").text
    run.check(result.startswith("2 codes added") and "line 3" in result, "two codes added, the bad line reported by its number")
    run.step("promo-codes")
    run.open(card_path)
    run.submit("#issue-promo-code")
    run.check("SPRING-" in run.find("#issued-codes").text and "promo.issued" in run.find("#timeline").text,
              "the card issues a free code, lists it and shows it in the history")
    run.step("promo-code-issued")


    # Every step above is in the audit log.
    run.open("/audit")
    audit = run.find("#audit").text
    for action in ["login.failure", "login.success", "user.password_change", "settings.security", "role.create", "user.create",
                   "user.lock", "login.refused", "user.language", "logout", "database.create", "import.upload", "import.start",
                   "campaign.create", "campaign.launch", "sending_domain.create", "promo_pool.create", "promo_code.issue"]:
        run.check(action in audit, f"the audit log shows {action}")
    run.check("rita@main.test" in audit and "leo@main.test" in audit, "the audit log names the users")
    run.step("audit-log")
    run.open("/audit?action=user.lock")
    run.check("leo@main.test" in run.find("#audit").text and "login.success" not in run.find("#audit").text, "the audit log filters by action")
    run.step("audit-filtered")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--control", default=os.path.join(ROOT, ".build", "debug", "control"))
    arguments = parser.parse_args()
    os.makedirs(ARTIFACTS, exist_ok=True)
    for name in os.listdir(ARTIFACTS):
        if name.endswith(".png"):
            os.remove(os.path.join(ARTIFACTS, name))
    print("browser tests of the control panel (screenshots in .artifacts/browser/)")
    panel = Panel(arguments.control)
    run = None
    try:
        run = Run(panel)
        scenario(run)
    except Exception as error:  # noqa: BLE001 — report any failure with its step, then fail the run
        where = [f"line {frame.lineno}" for frame in traceback.extract_tb(error.__traceback__) if frame.filename == __file__]
        print(f"  FAILED at {', '.join(where[-2:])}: {str(error).splitlines()[0] if str(error) else type(error).__name__}", file=sys.stderr)
        if run:
            try:
                run.driver.save_screenshot(os.path.join(ARTIFACTS, "FAILED.png"))
            except WebDriverException:
                pass
        return 1
    finally:
        if run:
            run.driver.quit()
        panel.stop()
    print(f"browser tests passed ({run.step_number} steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
