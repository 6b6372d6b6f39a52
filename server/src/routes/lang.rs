//! The language of a request.
//!
//! - API responses ([`RequestLang`]): `?lang=vi|en`, else the first supported
//!   language of `Accept-Language` (agents send theirs on purpose), else the
//!   server's configured language (Vietnamese by default).
//! - Web pages ([`PageLang`]): `?lang=vi|en` (the switch link in every page),
//!   else the server's language. The browser's `Accept-Language` is ignored:
//!   many commune PCs run an English Windows, and their users still expect
//!   Vietnamese unless they choose English.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use kiemke_shared::Lang;

use crate::state::AppState;

/// Extracts the request's language; never fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLang(pub Lang);

impl FromRequestParts<AppState> for RequestLang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(RequestLang(pick(
            parts.uri.query(),
            &parts.headers,
            state.config.lang,
        )))
    }
}

/// Extracts a web page's language; never fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLang(pub Lang);

impl FromRequestParts<AppState> for PageLang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(PageLang(pick(
            parts.uri.query(),
            &HeaderMap::new(),
            state.config.lang,
        )))
    }
}

/// Chooses the language from the query string and headers.
pub fn pick(query: Option<&str>, headers: &HeaderMap, default: Lang) -> Lang {
    let from_query = query.and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.strip_prefix("lang="))
            .find_map(Lang::from_tag)
    });
    let from_header = || {
        let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
        value.split(',').find_map(Lang::from_tag)
    };
    from_query.or_else(from_header).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn query_then_header_then_default() {
        let accept = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(v));
            h
        };
        let none = HeaderMap::new();
        let cases = [
            (None, &none, Lang::Vi, Lang::Vi),
            (None, &none, Lang::En, Lang::En),
            (Some("lang=en"), &none, Lang::Vi, Lang::En),
            (
                Some("offset=5&lang=vi"),
                &accept("en-US"),
                Lang::En,
                Lang::Vi,
            ),
            (
                Some("lang=fr"),
                &accept("en-US,en;q=0.9"),
                Lang::Vi,
                Lang::En,
            ),
            (None, &accept("fr-FR, vi;q=0.5"), Lang::En, Lang::Vi),
            (None, &accept("fr-FR"), Lang::Vi, Lang::Vi),
        ];
        for (query, headers, default, want) in cases {
            assert_eq!(pick(query, headers, default), want, "{query:?} {headers:?}");
        }
    }
}
