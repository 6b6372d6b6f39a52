//! A person at a browser, over real HTTP: a cookie jar, the log-in form with
//! its CSRF token, and forms sent back with the page's token.

use anyhow::Context;

/// A logged-in (or not yet) browser on one server.
pub struct WebSession {
    pub http: reqwest::Client,
    base: String,
}

/// The value of the first `name="csrf"` hidden input of a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let rest = html.split(r#"name="csrf" value=""#).nth(1)?;
    Some(rest.split('"').next()?.to_owned())
}

/// The first-start password from the line the server prints:
/// `... admin / mật khẩu: PASSWORD (...)` or `... admin / password: PASSWORD (...)`.
pub fn first_admin_password(line: &str) -> Option<String> {
    let rest = line
        .split_once("admin / mật khẩu: ")
        .or_else(|| line.split_once("admin / password: "))?
        .1;
    Some(rest.split_whitespace().next()?.to_owned())
}

impl WebSession {
    /// A fresh browser for `base` (e.g. `http://127.0.0.1:41234/`); trusts
    /// plain HTTP on loopback only. Redirects are not followed, so tests see
    /// them.
    pub fn new(base: &str) -> anyhow::Result<WebSession> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(WebSession {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path`: status, `Location`, body.
    pub async fn get(&self, path: &str) -> anyhow::Result<(u16, Option<String>, String)> {
        let response = self.http.get(self.url(path)).send().await?;
        let status = response.status().as_u16();
        let location = (response.headers().get("location"))
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        Ok((status, location, response.text().await?))
    }

    /// Opens `form_page`, then posts `fields` plus its CSRF token to
    /// `action`: status, `Location`, body.
    pub async fn submit(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<(u16, Option<String>, String)> {
        let (_, _, html) = self.get(form_page).await?;
        let token = csrf_of(&html).with_context(|| format!("no csrf field in {form_page}"))?;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &token));
        let response = self.http.post(self.url(action)).form(&form).send().await?;
        let status = response.status().as_u16();
        let location = (response.headers().get("location"))
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        Ok((status, location, response.text().await?))
    }

    /// Logs in; the `Location` the server redirected to.
    pub async fn login(&self, user: &str, password: &str) -> anyhow::Result<String> {
        let (status, location, body) = self
            .submit(
                "/login",
                "/login",
                &[("username", user), ("password", password)],
            )
            .await?;
        anyhow::ensure!(status == 303, "log-in as {user}: {status} {body}");
        location.context("no Location after log-in")
    }

    /// Logs in with a generated password and replaces it with `new`
    /// (the server insists), then logs in again with `new`.
    pub async fn login_first_time(
        &self,
        user: &str,
        generated: &str,
        new: &str,
    ) -> anyhow::Result<()> {
        let to = self.login(user, generated).await?;
        anyhow::ensure!(to.starts_with("/account/password"), "sent to {to}");
        let (status, _, body) = self
            .submit(
                "/account/password",
                "/account/password",
                &[("current", generated), ("new", new), ("confirm", new)],
            )
            .await?;
        anyhow::ensure!(status == 303, "password change: {status} {body}");
        self.login(user, new).await.map(drop)
    }
}
