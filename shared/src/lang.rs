//! The language a user reads: Vietnamese (with full diacritics) by default,
//! English when asked for. Both binaries pick their messages with it.

use serde::{Deserialize, Serialize};

/// A user-facing language. Vietnamese is the default because the users are
/// Vietnamese commune and province officers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// Parses a language tag such as `vi`, `en`, `en-US`; anything else is
    /// `None` so the caller can keep its default.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag
            .trim()
            .split(['-', '_', ';'])
            .next()?
            .to_ascii_lowercase();
        match primary.as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the first supported language of an HTTP `Accept-Language` value,
    /// in the order given (q-values are rarely used by our clients; order is
    /// what browsers send first). Falls back to Vietnamese.
    pub fn from_accept_language(header: &str) -> Lang {
        header
            .split(',')
            .find_map(Lang::from_tag)
            .unwrap_or_default()
    }

    /// Chooses between the two renderings of one message.
    pub fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::from_tag(s)
            .ok_or_else(|| format!("ngôn ngữ không hỗ trợ / unsupported language: {s} (vi, en)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_first_supported() {
        let cases = [
            ("vi-VN,vi;q=0.9,en;q=0.8", Lang::Vi),
            ("en-US,en;q=0.9", Lang::En),
            ("fr-FR, en;q=0.5", Lang::En),
            ("fr", Lang::Vi),
            ("", Lang::Vi),
        ];
        for (header, want) in cases {
            assert_eq!(Lang::from_accept_language(header), want, "{header}");
        }
    }
}
