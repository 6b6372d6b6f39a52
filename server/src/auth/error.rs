//! Refusals of the trust layer: missing or bad credentials, revoked agents,
//! agents writing as someone else, enrollment tokens that cannot be used, and
//! the admin API's input errors. Each has an HTTP status, a machine-readable
//! [`ErrorCode`] and a message a person can act on, in Vietnamese or English.

use axum::http::StatusCode;
use kiemke_shared::api::ErrorCode;
use kiemke_shared::auth::TokenId;
use kiemke_shared::{AgentId, Lang, SiteRef};

use crate::store::trust::EnrollRefusal;

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("no Authorization header")]
    MissingCredential,
    #[error("malformed Authorization header")]
    MalformedCredential,
    #[error("unknown agent or wrong credential")]
    BadCredential,
    #[error("agent {agent_id} is revoked")]
    AgentRevoked { agent_id: AgentId },
    #[error("agent {authenticated} sent a report as agent {claimed}")]
    WrongAgent {
        authenticated: AgentId,
        claimed: AgentId,
    },
    #[error("enrollment refused: {0}")]
    Enroll(#[from] EnrollRefusal),
    #[error("the admin API is off (no admin token configured)")]
    AdminDisabled,
    #[error("wrong or missing admin token")]
    AdminUnauthorized,
    #[error("{field}: {detail}")]
    Invalid { field: &'static str, detail: String },
    #[error("site {0} is not in the registry")]
    UnknownSite(SiteRef),
    #[error("site {0} already exists")]
    SiteExists(SiteRef),
    #[error("no token {0}")]
    TokenNotFound(TokenId),
    #[error("no agent {0}")]
    AgentNotFound(AgentId),
}

impl TrustError {
    pub fn status(&self) -> StatusCode {
        match self {
            TrustError::MissingCredential
            | TrustError::MalformedCredential
            | TrustError::BadCredential
            | TrustError::AgentRevoked { .. }
            | TrustError::AdminUnauthorized
            | TrustError::Enroll(EnrollRefusal::TokenInvalid) => StatusCode::UNAUTHORIZED,
            TrustError::WrongAgent { .. }
            | TrustError::AdminDisabled
            | TrustError::Enroll(
                EnrollRefusal::TokenExpired { .. }
                | EnrollRefusal::TokenExhausted { .. }
                | EnrollRefusal::TokenRevoked,
            ) => StatusCode::FORBIDDEN,
            TrustError::Enroll(EnrollRefusal::OtherCommune { .. }) | TrustError::SiteExists(_) => {
                StatusCode::CONFLICT
            }
            TrustError::Invalid { .. } | TrustError::UnknownSite(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            TrustError::TokenNotFound(_) | TrustError::AgentNotFound(_) => StatusCode::NOT_FOUND,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            TrustError::MissingCredential
            | TrustError::MalformedCredential
            | TrustError::BadCredential
            | TrustError::AdminUnauthorized => ErrorCode::Unauthorized,
            TrustError::AgentRevoked { .. } => ErrorCode::AgentRevoked,
            TrustError::WrongAgent { .. } | TrustError::AdminDisabled => ErrorCode::Forbidden,
            TrustError::Enroll(r) => match r {
                EnrollRefusal::TokenInvalid => ErrorCode::TokenInvalid,
                EnrollRefusal::TokenExpired { .. } => ErrorCode::TokenExpired,
                EnrollRefusal::TokenExhausted { .. } => ErrorCode::TokenExhausted,
                EnrollRefusal::TokenRevoked => ErrorCode::TokenRevoked,
                EnrollRefusal::OtherCommune { .. } => ErrorCode::Conflict,
            },
            TrustError::Invalid { .. } | TrustError::UnknownSite(_) => ErrorCode::InvalidField,
            TrustError::SiteExists(_) => ErrorCode::Conflict,
            TrustError::TokenNotFound(_) | TrustError::AgentNotFound(_) => ErrorCode::NotFound,
        }
    }

    pub fn field(&self) -> Option<String> {
        match self {
            TrustError::WrongAgent { .. } => Some("agent_id".into()),
            TrustError::Enroll(EnrollRefusal::OtherCommune { .. }) => Some("agent_id".into()),
            TrustError::Enroll(_) => Some("token".into()),
            TrustError::Invalid { field, .. } => Some((*field).into()),
            TrustError::UnknownSite(_) | TrustError::SiteExists(_) => Some("site".into()),
            _ => None,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        let enroll_hint = lang.pick(
            "Hãy đăng ký lại: kiemke-agent enroll --server URL --token MÃ (mã đăng ký do Sở KH&CN cấp).",
            "Enroll again: kiemke-agent enroll --server URL --token TOKEN (a token from the province).",
        );
        match self {
            TrustError::MissingCredential | TrustError::MalformedCredential => {
                if vi {
                    format!(
                        "Tác tử chưa đăng ký với máy chủ (thiếu hoặc sai thông tin xác thực). \
                         Báo cáo không được lưu. {enroll_hint}"
                    )
                } else {
                    format!(
                        "The agent is not enrolled with this server (missing or malformed \
                         credential). The report was not stored. {enroll_hint}"
                    )
                }
            }
            TrustError::BadCredential => {
                if vi {
                    format!(
                        "Thông tin xác thực của tác tử không hợp lệ (tác tử chưa đăng ký với máy \
                         chủ này). Báo cáo không được lưu. {enroll_hint}"
                    )
                } else {
                    format!(
                        "The agent's credential is not valid (the agent is not enrolled with this \
                         server). The report was not stored. {enroll_hint}"
                    )
                }
            }
            TrustError::AgentRevoked { agent_id } => {
                if vi {
                    format!(
                        "Tác tử {agent_id} đã bị thu hồi quyền gửi báo cáo. Báo cáo không được \
                         lưu. Liên hệ Sở KH&CN để được cấp mã đăng ký mới nếu máy này vẫn dùng."
                    )
                } else {
                    format!(
                        "Agent {agent_id} has been revoked and may no longer send reports. The \
                         report was not stored. Ask the province for a new enrollment token if \
                         this PC is still in use."
                    )
                }
            }
            TrustError::WrongAgent {
                authenticated,
                claimed,
            } => {
                if vi {
                    format!(
                        "Tác tử {authenticated} không được gửi báo cáo thay cho tác tử {claimed}."
                    )
                } else {
                    format!("Agent {authenticated} may not send reports as agent {claimed}.")
                }
            }
            TrustError::Enroll(refusal) => enroll_message(refusal, lang),
            TrustError::AdminDisabled => lang
                .pick(
                    "API quản trị đang tắt: máy chủ chưa có admin-token \
                     (--admin-token hoặc KIEMKE_SERVER_ADMIN_TOKEN).",
                    "The admin API is off: the server has no admin token \
                     (--admin-token or KIEMKE_SERVER_ADMIN_TOKEN).",
                )
                .to_owned(),
            TrustError::AdminUnauthorized => lang
                .pick(
                    "Sai hoặc thiếu mã quản trị (Authorization: Bearer <admin-token>).",
                    "Wrong or missing admin token (Authorization: Bearer <admin-token>).",
                )
                .to_owned(),
            TrustError::Invalid { field, detail } => {
                if vi {
                    format!("Trường {field} không hợp lệ: {detail}")
                } else {
                    format!("Field {field} is invalid: {detail}")
                }
            }
            TrustError::UnknownSite(site) => {
                if vi {
                    format!(
                        "Chưa có điểm {site} trong danh sách. Thêm trước bằng: kiemke-server \
                         site add --commune {} --code {} --kind ... --name ...",
                        site.commune, site.site
                    )
                } else {
                    format!(
                        "Site {site} is not in the registry. Add it first: kiemke-server site add \
                         --commune {} --code {} --kind ... --name ...",
                        site.commune, site.site
                    )
                }
            }
            TrustError::SiteExists(site) => {
                if vi {
                    format!("Điểm {site} đã có trong danh sách.")
                } else {
                    format!("Site {site} already exists.")
                }
            }
            TrustError::TokenNotFound(id) => {
                if vi {
                    format!("Không có mã đăng ký {id}.")
                } else {
                    format!("There is no enrollment token {id}.")
                }
            }
            TrustError::AgentNotFound(id) => {
                if vi {
                    format!("Không có tác tử {id}.")
                } else {
                    format!("There is no agent {id}.")
                }
            }
        }
    }
}

fn enroll_message(refusal: &EnrollRefusal, lang: Lang) -> String {
    let vi = lang == Lang::Vi;
    let ask = lang.pick(
        "Hãy xin Sở KH&CN một mã đăng ký mới.",
        "Ask the province for a new enrollment token.",
    );
    match refusal {
        EnrollRefusal::TokenInvalid => lang
            .pick(
                "Mã đăng ký không đúng (kiểm tra lại từng ký tự, hoặc mã dành cho máy chủ khác).",
                "The enrollment token is not valid (check every character, or it belongs to \
                 another server).",
            )
            .to_owned(),
        EnrollRefusal::TokenExpired { expired_at } => {
            let at = expired_at.format("%d/%m/%Y %H:%M UTC");
            if vi {
                format!("Mã đăng ký đã hết hạn lúc {at}. {ask}")
            } else {
                format!("The enrollment token expired at {at}. {ask}")
            }
        }
        EnrollRefusal::TokenExhausted { max_uses } => {
            if vi {
                format!("Mã đăng ký đã được dùng đủ {max_uses} lần cho phép. {ask}")
            } else {
                format!("The enrollment token has been used {max_uses} times, its limit. {ask}")
            }
        }
        EnrollRefusal::TokenRevoked => {
            if vi {
                format!("Mã đăng ký đã bị thu hồi. {ask}")
            } else {
                format!("The enrollment token was revoked. {ask}")
            }
        }
        EnrollRefusal::OtherCommune { agent_id, commune } => {
            if vi {
                format!(
                    "Tác tử {agent_id} đang đăng ký với xã {commune}. Muốn chuyển sang xã khác, \
                     Sở KH&CN phải thu hồi tác tử trước (kiemke-server agent revoke {agent_id})."
                )
            } else {
                format!(
                    "Agent {agent_id} is enrolled in commune {commune}. To move it, the province \
                     must revoke it first (kiemke-server agent revoke {agent_id})."
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_a_status_code_and_both_languages() {
        let id = AgentId::generate();
        let all = [
            TrustError::MissingCredential,
            TrustError::MalformedCredential,
            TrustError::BadCredential,
            TrustError::AgentRevoked { agent_id: id },
            TrustError::WrongAgent {
                authenticated: id,
                claimed: AgentId::generate(),
            },
            TrustError::Enroll(EnrollRefusal::TokenInvalid),
            TrustError::Enroll(EnrollRefusal::TokenExhausted { max_uses: 3 }),
            TrustError::Enroll(EnrollRefusal::TokenRevoked),
            TrustError::AdminDisabled,
            TrustError::AdminUnauthorized,
        ];
        for e in all {
            assert!(e.status().is_client_error(), "{e}");
            assert_ne!(e.message(Lang::Vi), e.message(Lang::En), "{e}");
            assert!(!e.message(Lang::Vi).is_empty());
        }
        let revoked = TrustError::AgentRevoked { agent_id: id };
        assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(revoked.code(), ErrorCode::AgentRevoked);
        assert!(revoked.message(Lang::Vi).contains("thu hồi"));
        let wrong = TrustError::WrongAgent {
            authenticated: id,
            claimed: AgentId::generate(),
        };
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    }
}
