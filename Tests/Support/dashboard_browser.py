#!/usr/bin/env python3
"""Drives monitoring-server's dashboard in headless Chromium (Selenium) and prints what a person
would see, as one JSON object: the fleet table's rows, the host page's charts and tables, the
alerts page filtered by rule, and every console message of every page. With a second argument,
saves a screenshot of each page there (fleet.png, host.png, alerts.png).

    dashboard_browser.py http://127.0.0.1:PORT [screenshot-dir]
"""
import json, sys
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

base = sys.argv[1].rstrip("/")
shots = sys.argv[2] if len(sys.argv) > 2 else None
o = webdriver.ChromeOptions()
for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
    o.add_argument(a)
o.binary_location = "/usr/bin/chromium"
o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
out = {"console": []}
try:
    def visit(name, path):
        d.get(base + path)
        if shots:
            d.save_screenshot(f"{shots}/{name}.png")
        out["console"] += [f"{name}: {e['level']} {e['message']}" for e in d.get_log("browser")]

    visit("fleet", "/")
    css = lambda el, sel: [e.text for e in el.find_elements("css selector", sel)]
    out["fleet"] = [{"server_id": r.get_attribute("data-server-id"), "host": r.find_element("css selector", "td a").text,
                     "cpu": r.find_element("css selector", "td.cpu").text, "memory": r.find_element("css selector", "td.memory").text,
                     "disk": r.find_element("css selector", "td.disk").text, "score": r.find_element("css selector", "td.score").text,
                     "alerts": r.find_element("css selector", "td.alerts").text, "stale": "stale" in (r.get_attribute("class") or "")}
                    for r in d.find_elements("css selector", "table#fleet tbody tr")]
    out["title"] = d.title
    if out["fleet"]:
        d.find_element("css selector", "table#fleet tbody tr td a").click()  # a person's click, not a typed URL
        out["host_url"] = d.current_url
        out["console"] += [f"host: {e['level']} {e['message']}" for e in d.get_log("browser")]
        if shots:
            d.save_screenshot(f"{shots}/host.png")
        out["charts"] = css(d, "#charts figcaption")
        out["lines"] = len(d.find_elements("css selector", "#charts polyline")) + len(d.find_elements("css selector", "#charts circle"))
        out["host_alert_rules"] = css(d, "table.alerts td.rule")
    visit("alerts", "/alerts?rule=BRUTE_FORCE&range=24h")
    out["alert_rules"] = css(d, "table.alerts td.rule")
    out["alert_subjects"] = css(d, "table.alerts td.subject")
    out["alert_summary"] = d.find_element("css selector", "#summary").text
finally:
    d.quit()
print(json.dumps(out), flush=True)
