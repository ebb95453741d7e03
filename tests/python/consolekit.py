"""The web console as a browser drives it over HTTP, for the pytest suites (test_console.py and the
deny matrix's console steps): sign-in forms, the session's CSRF token, the bridge's calls."""

from __future__ import annotations

import re

import requests

COOKIE = "rolestack_console"
# The sign-in form's own cookie (its CSRF protection; the form starts no session).
FORM_COOKIE = "rolestack_signin"
# The console password the suites give their RAM users.
PASSWORD = "Console-Sweep-Pw1"


class Console:
    """One browser's console session: its cookie jar and the session's CSRF token."""

    def __init__(self, base_url: str, verify=True):
        self.base = base_url
        self.http = requests.Session()
        # (the environment's CA bundle would take precedence over `verify`)
        self.http.trust_env = False
        self.http.verify = verify
        self.csrf = ""

    def signin_form(self) -> str:
        r = self.http.get(self.base + "/console/signin", allow_redirects=False, timeout=30)
        assert r.status_code == 200, r.text[:300]
        return re.search(r'name="csrf_token" value="([0-9a-f]+)"', r.text).group(1)

    def signin(self, **form) -> requests.Response:
        token = self.signin_form()
        return self.http.post(self.base + "/console/signin", data={"csrf_token": token, **form},
                              allow_redirects=False, timeout=60)

    def signin_root(self, root) -> "Console":
        r = self.signin(kind="root", access_key_id=root["AccessKeyId"], access_key_secret=root["AccessKeySecret"])
        assert r.status_code == 303 and r.headers["location"] == "/console/", (r.status_code, r.text[:300])
        self.csrf = self.session()["CsrfToken"]
        return self

    def signin_user(self, login: str, password: str = PASSWORD) -> "Console":
        r = self.signin(kind="user", login=login, password=password)
        assert r.status_code == 303 and r.headers["location"] == "/console/", (r.status_code, r.text[:300])
        self.csrf = self.session()["CsrfToken"]
        return self

    def session(self) -> dict:
        r = self.http.get(self.base + "/console/api/session", timeout=30)
        assert r.status_code == 200, r.text[:300]
        return r.json()

    def change_password(self, old: str, to: str) -> requests.Response:
        """Submits the console's password form (new password typed twice)."""
        return self.http.post(self.base + "/console/password", allow_redirects=False, timeout=60,
                              data={"csrf_token": self.csrf, "old_password": old, "new_password": to, "confirm_password": to})

    @property
    def cookie(self) -> str:
        return self.http.cookies.get(COOKIE)

    def post(self, product: str, action: str, params=None, token=None, headers=None) -> requests.Response:
        hdrs = {"X-CSRF-Token": self.csrf if token is None else token, **(headers or {})}
        return self.http.post(f"{self.base}/console/api/{product}/{action}", json=params or {}, headers=hdrs, timeout=60)

    def call(self, product: str, action: str, params=None) -> dict:
        r = self.post(product, action, params)
        assert r.status_code == 200, (action, r.status_code, r.text[:500])
        return r.json()

    def error(self, product: str, action: str, params=None) -> dict:
        """The bridge's refusal: status, Code, Message, RequestId (checked present)."""
        r = self.post(product, action, params)
        assert r.status_code >= 400, (action, r.status_code, r.text[:500])
        assert r.headers["content-type"].startswith("application/json"), r.headers
        body = r.json()
        assert body["Code"] and body["RequestId"], body
        body["status"] = r.status_code
        return body
