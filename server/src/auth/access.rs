//! Refusals of the web users' access control: not logged in, another
//! commune's data, a role that may not do this, a form without its CSRF
//! token. Each has a status (401 or 403), an [`ErrorCode`] and a message in
//! the request's language.

use axum::http::StatusCode;
use kiemke_shared::api::ErrorCode;
use kiemke_shared::{CommuneCode, Lang};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("not logged in")]
    Unauthenticated,
    #[error("commune {0} is outside the viewer's scope")]
    OtherCommune(CommuneCode),
    /// Data not filed under any commune: only province roles see it.
    #[error("data without a commune is for province roles only")]
    NoCommune,
    #[error("province administrators only")]
    AdminOnly,
    #[error("the role may not change data")]
    ReadOnly,
    #[error("missing or wrong CSRF token")]
    Csrf,
}

impl AccessError {
    pub fn status(&self) -> StatusCode {
        match self {
            AccessError::Unauthenticated => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AccessError::Unauthenticated => ErrorCode::Unauthorized,
            _ => ErrorCode::Forbidden,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (AccessError::Unauthenticated, _) => lang
                .pick(
                    "Bạn chưa đăng nhập. Hãy đăng nhập tại /login (hoặc gửi Authorization: Bearer \
                     <admin-token>).",
                    "You are not logged in. Log in at /login (or send Authorization: Bearer \
                     <admin-token>).",
                )
                .to_owned(),
            (AccessError::OtherCommune(c), Lang::Vi) => format!(
                "Bạn không có quyền xem hay sửa dữ liệu của xã {c}: tài khoản của bạn chỉ dùng \
                 cho xã của mình."
            ),
            (AccessError::OtherCommune(c), Lang::En) => format!(
                "You may not see or change the data of commune {c}: your account is for your \
                 own commune only."
            ),
            (AccessError::NoCommune, _) => lang
                .pick(
                    "Dữ liệu này chưa thuộc xã nào; chỉ tài khoản cấp tỉnh xem được.",
                    "This data belongs to no commune yet; only province accounts may see it.",
                )
                .to_owned(),
            (AccessError::AdminOnly, _) => lang
                .pick(
                    "Chỉ quản trị tỉnh được dùng chức năng này.",
                    "Only province administrators may use this.",
                )
                .to_owned(),
            (AccessError::ReadOnly, _) => lang
                .pick(
                    "Tài khoản của bạn chỉ được xem, không được sửa dữ liệu.",
                    "Your account may read but not change data.",
                )
                .to_owned(),
            (AccessError::Csrf, _) => lang
                .pick(
                    "Yêu cầu bị từ chối: thiếu hoặc sai mã chống giả mạo (CSRF) của biểu mẫu. Hãy \
                     tải lại trang rồi gửi lại; không có gì bị thay đổi.",
                    "Request refused: the form's anti-forgery (CSRF) token is missing or wrong. \
                     Reload the page and send it again; nothing was changed.",
                )
                .to_owned(),
        }
    }
}
