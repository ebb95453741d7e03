//! The console's files, embedded in the binary (no CDN, no web fonts, nothing fetched from
//! elsewhere), and the three small server-rendered pages (sign-in, password change, errors).

pub const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");
const LOGO_SVG: &str = include_str!("assets/logo.svg");

/// An embedded static file: its media type and bytes.
pub fn get(name: &str) -> Option<(&'static str, &'static [u8])> {
    match name {
        "app.js" => Some(("text/javascript; charset=utf-8", APP_JS.as_bytes())),
        "app.css" => Some(("text/css; charset=utf-8", APP_CSS.as_bytes())),
        "logo.svg" => Some(("image/svg+xml", LOGO_SVG.as_bytes())),
        _ => None,
    }
}

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page around `body` (trusted HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · rolestack console</title><link rel=\"icon\" href=\"/console/static/logo.svg\"><link rel=\"stylesheet\" href=\"/console/static/app.css\"></head>\
<body class=\"plain\">{body}</body></html>\n",
        escape(title)
    )
}

fn alert(error: Option<&str>) -> String {
    match error {
        Some(e) => format!("<p class=\"alert error\" role=\"alert\" id=\"signin-error\">{}</p>", escape(e)),
        None => String::new(),
    }
}

/// The sign-in page: the account root with its AccessKey pair, or a RAM user with its logon name
/// and console password.
pub fn signin_page(csrf: &str, error: Option<&str>, login: &str, access_key_id: &str) -> String {
    let csrf = escape(csrf);
    let body = format!(
        r#"<main class="signin">
<div class="brand-row"><img src="/console/static/logo.svg" alt="" width="36" height="36"><span class="brand-name">rolestack console</span></div>
<h1>Sign in</h1>
{alert}
<div class="signin-cards">
<section class="card" aria-labelledby="user-h">
<h2 id="user-h">RAM user</h2>
<form method="post" action="/console/signin">
<input type="hidden" name="csrf_token" value="{csrf}"><input type="hidden" name="kind" value="user">
<label for="login">Logon name</label>
<input id="login" name="login" type="text" autocomplete="username" placeholder="UserName@AccountAlias" value="{login}" required>
<p class="hint">Your RAM user name, <code>@</code>, and your account's alias or ID.</p>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button class="primary" type="submit">Sign in as RAM user</button>
</form>
</section>
<section class="card" aria-labelledby="root-h">
<h2 id="root-h">Alibaba Cloud account (root)</h2>
<form method="post" action="/console/signin">
<input type="hidden" name="csrf_token" value="{csrf}"><input type="hidden" name="kind" value="root">
<label for="akid">AccessKey ID</label>
<input id="akid" name="access_key_id" type="text" autocomplete="username" spellcheck="false" value="{akid}" required>
<label for="aksecret">AccessKey secret</label>
<input id="aksecret" name="access_key_secret" type="password" autocomplete="current-password" required>
<p class="hint">rolestack has no root password: the account root signs in with its AccessKey pair, which
<code>rolestack serve</code> printed on first start (<code>rolestack credentials</code> shows it again).</p>
<button class="primary" type="submit">Sign in as account root</button>
</form>
</section>
</div>
<p class="footnote">A RAM user can sign in once an administrator gives it a console password (RAM <code>CreateLoginProfile</code>, or <b>Users</b> &gt; <b>Console logon</b> here).</p>
</main>"#,
        alert = alert(error),
        login = escape(login),
        akid = escape(access_key_id),
    );
    page("Sign in", &body)
}

/// The password change form (forced when the login profile has PasswordResetRequired).
pub fn password_page(csrf: &str, error: Option<&str>, forced: bool) -> String {
    let why = if forced {
        "<p>Your administrator requires you to set a new password before you continue.</p>"
    } else {
        "<p>Set a new console password.</p>"
    };
    let body = format!(
        r#"<main class="signin"><section class="card narrow" aria-labelledby="pw-h">
<h1 id="pw-h">Change password</h1>{why}{alert}
<form method="post" action="/console/password">
<input type="hidden" name="csrf_token" value="{csrf}">
<label for="old">Current password</label><input id="old" name="old_password" type="password" autocomplete="current-password" required>
<label for="new">New password</label><input id="new" name="new_password" type="password" autocomplete="new-password" maxlength="32" required>
<p class="hint">8 to 32 characters, and what your account's password policy requires.</p>
<label for="confirm">Confirm new password</label><input id="confirm" name="confirm_password" type="password" autocomplete="new-password" required>
<button class="primary" type="submit">Change password</button>
</form>
<form method="post" action="/console/signout"><input type="hidden" name="csrf_token" value="{csrf}"><button class="link" type="submit">Sign out</button></form>
</section></main>"#,
        alert = alert(error),
        csrf = escape(csrf),
    );
    page("Change password", &body)
}

/// The MFA step of a RAM user's sign-in: the current code of its device, or — when the login
/// profile says MFABindRequired and it has none — a new device to add to an authenticator app
/// (`bind`: the Base32 seed, its `otpauth://` URI and a PNG QR code) and two consecutive codes.
pub fn mfa_page(csrf: &str, logon: &str, bind: Option<(&str, &str, &str)>, error: Option<&str>) -> String {
    let csrf = escape(csrf);
    let (intro, fields) = match bind {
        None => (
            format!("<p>Enter the 6-digit code from the authenticator app of <b>{}</b>.</p>", escape(logon)),
            r#"<label for="code">MFA code</label>
<input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus>"#
                .to_string(),
        ),
        Some((seed, uri, png)) => (
            format!(
                r#"<p>Your administrator requires an MFA device for <b>{logon}</b>. Scan the code with an authenticator app (or enter the key by hand), then enter two consecutive codes.</p>
<img class="qr" src="data:image/png;base64,{png}" alt="QR code of the MFA key" width="200" height="200">
<p class="hint">Key: <code id="mfa-seed">{seed}</code></p><input type="hidden" name="otpauth" value="{uri}">"#,
                logon = escape(logon),
                png = escape(png),
                seed = escape(seed),
                uri = escape(uri),
            ),
            r#"<label for="code">First code</label>
<input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus>
<label for="code2">Next code</label>
<input id="code2" name="code2" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required>"#
                .to_string(),
        ),
    };
    let body = format!(
        r#"<main class="signin"><section class="card narrow" aria-labelledby="mfa-h">
<h1 id="mfa-h">Multi-factor authentication</h1>{intro}{alert}
<form method="post" action="/console/mfa">
<input type="hidden" name="csrf_token" value="{csrf}">
{fields}
<button class="primary" type="submit">Verify</button>
</form>
<p><a href="/console/signin">Cancel</a></p>
</section></main>"#,
        alert = alert(error),
    );
    page("MFA", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_assets() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert!(get("app.js").is_some() && get("app.css").is_some() && get("../mod.rs").is_none());
        let p = signin_page("tok", Some("<bad>"), "a\"b", "");
        assert!(p.contains("&lt;bad&gt;") && p.contains("a&quot;b") && p.contains("value=\"tok\""));
        // Nothing is loaded from another origin.
        for text in [INDEX_HTML, APP_CSS, APP_JS, &p] {
            assert!(!text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"), "external reference");
        }
    }
}
