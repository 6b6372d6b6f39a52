//! The words of the Tờ trình, shared by the Word document, the print view
//! and the workbook, so all three say the same thing: the header block
//! (national motto, issuing body, number, place and date), title,
//! addressees, body, signature block, "Nơi nhận", the annex caption and
//! columns; and the number formats (dots between thousands, as Vietnamese
//! documents write money).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::build::{Proposal, capitalise};
use super::input::{ProposalInput, Scope};

/// The national motto block.
pub const MOTTO: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
pub const MOTTO_SUB: &str = "Độc lập - Tự do - Hạnh phúc";

/// The annex columns (Nghị định 30/2020 annex table, DOMAIN.md).
pub const COLUMNS: [&str; 13] = [
    "STT",
    "Tên tài sản",
    "Cấu hình/thông số",
    "ĐVT",
    "Số lượng hiện có",
    "Năm sử dụng",
    "Nguyên giá (đồng)",
    "Giá trị còn lại (đồng)",
    "Số lượng đề nghị",
    "Đơn giá dự kiến (đồng)",
    "Thành tiền (đồng)",
    "Định mức áp dụng",
    "Lý do",
];

/// The columns of the sheet of devices to be replaced.
pub const DEVICE_COLUMNS: [&str; 11] = [
    "STT",
    "Xã/phường",
    "Điểm",
    "Loại",
    "Mã tài sản / số sê-ri",
    "Mẫu máy",
    "Năm sử dụng",
    "Nguyên giá (đồng)",
    "Giá trị còn lại (đồng)",
    "Trạng thái",
    "Lý do",
];

/// What identifies a saved proposal on paper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocMeta {
    /// "12/TTr-UBND"; `None` on a draft without a number (printed blank).
    pub number: Option<String>,
    pub date: NaiveDate,
}

/// Every line of the document, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocText {
    /// "ỦY BAN NHÂN DÂN TỈNH GIA LAI" above a department; `None` for a
    /// commune.
    pub issuer_parent: Option<String>,
    /// "ỦY BAN NHÂN DÂN XÃ IA GRAI".
    pub issuer: String,
    /// The issuer as printed in the header block, one line each:
    /// "ỦY BAN NHÂN DÂN", "XÃ IA GRAI".
    pub issuer_lines: Vec<String>,
    /// "Số: 12/TTr-UBND".
    pub number: String,
    /// "Ia Grai, ngày 22 tháng 11 năm 2026" (italics).
    pub place_date: String,
    pub title: String,
    pub subtitle: String,
    /// "Kính gửi: …" (one line) or the addressees as a list.
    pub addressees: Vec<String>,
    pub body: Vec<String>,
    /// "Tổng kinh phí đề nghị: 312.000.000 đồng".
    pub total_line: String,
    /// "(Bằng chữ: Ba trăm mười hai triệu đồng chẵn)".
    pub words_line: String,
    pub closing: String,
    /// "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH".
    pub signature: Vec<String>,
    /// "Nơi nhận:" then "- Như trên;" ...
    pub copies: Vec<String>,
    pub annex_title: String,
    pub annex_subtitle: String,
    /// "(Kèm theo Tờ trình số 12/TTr-UBND ngày 22/11/2026 của …)".
    pub annex_caption: String,
    pub notes_title: String,
}

/// 312000000 → "312.000.000".
pub fn money(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// 45.26 → "45,3" (one decimal, comma).
pub fn mbps(v: f64) -> String {
    format!("{v:.1}").replace('.', ",")
}

/// "ngày 05 tháng 02 năm 2026": days below 10 and months 1 and 2 take a
/// leading zero (Nghị định 30/2020, Phụ lục I).
pub fn date_long(d: NaiveDate) -> String {
    let month = if d.month() <= 2 {
        format!("{:02}", d.month())
    } else {
        d.month().to_string()
    };
    format!("ngày {:02} tháng {month} năm {}", d.day(), d.year())
}

/// The document's text.
pub fn document(input: &ProposalInput, proposal: &Proposal, meta: &DocMeta) -> DocText {
    let province = input.province.clone().unwrap_or_else(|| "…".into());
    let year = meta.date.year();
    let (issuer_parent, issuer, short_issuer, suffix, place, addressees, signature, copies) =
        match &input.scope {
            Scope::Commune(code) => {
                let commune = input.communes.iter().find(|c| &c.code == code);
                let full = commune.map_or_else(|| format!("xã {code}"), |c| c.full_name_vi.clone());
                let place = commune.map_or_else(|| code.to_string(), |c| c.place_vi.clone());
                (
                    None,
                    format!("ỦY BAN NHÂN DÂN {}", full.to_uppercase()),
                    format!("Ủy ban nhân dân {full}"),
                    "TTr-UBND",
                    place,
                    vec![
                        format!("Sở Khoa học và Công nghệ tỉnh {province};"),
                        format!("Sở Tài chính tỉnh {province}."),
                    ],
                    vec![
                        "TM. ỦY BAN NHÂN DÂN".to_owned(),
                        "KT. CHỦ TỊCH".to_owned(),
                        "PHÓ CHỦ TỊCH".to_owned(),
                    ],
                    vec![
                        "Nơi nhận:".to_owned(),
                        "- Như trên;".to_owned(),
                        format!("- TT. Đảng ủy, HĐND {full};"),
                        "- Chủ tịch, các PCT UBND;".to_owned(),
                        "- Lưu: VT.".to_owned(),
                    ],
                )
            }
            Scope::Province => (
                Some(format!("ỦY BAN NHÂN DÂN TỈNH {}", province.to_uppercase())),
                "SỞ KHOA HỌC VÀ CÔNG NGHỆ".to_owned(),
                format!("Sở Khoa học và Công nghệ tỉnh {province}"),
                "TTr-SKHCN",
                province.clone(),
                vec![format!("Ủy ban nhân dân tỉnh {province}.")],
                vec!["KT. GIÁM ĐỐC".to_owned(), "PHÓ GIÁM ĐỐC".to_owned()],
                vec![
                    "Nơi nhận:".to_owned(),
                    "- Như trên;".to_owned(),
                    "- Sở Tài chính;".to_owned(),
                    "- UBND các xã, phường có tên trong phụ lục;".to_owned(),
                    "- Lưu: VT, phòng chuyên môn.".to_owned(),
                ],
            ),
        };
    let number = match &meta.number {
        Some(n) => format!("Số: {n}"),
        None => format!("Số:        /{suffix}"),
    };
    let number_ref = meta
        .number
        .clone()
        .unwrap_or_else(|| format!("     /{suffix}"));
    let scope_text = match &input.scope {
        Scope::Commune(_) => "trên địa bàn".to_owned(),
        Scope::Province => format!(
            "của {} xã, phường trên địa bàn tỉnh (chi tiết theo xã tại phụ lục)",
            input.communes.len()
        ),
    };
    let mut body = vec![
        format!(
            "Thực hiện chủ trương rà soát toàn bộ hạ tầng mạng và trang thiết bị công nghệ thông tin \
             đầu cuối tại các xã, phường; căn cứ kết quả kiểm kê thiết bị và đo tốc độ đường truyền \
             đến {}, {short_issuer} kính trình xem xét, bố trí kinh phí đầu tư, thay thế trang thiết bị \
             công nghệ thông tin {scope_text} như sau:",
            input.as_of.format("%d/%m/%Y")
        ),
        "1. Sự cần thiết".to_owned(),
        format!(
            "Nhiều máy tính, máy in được trang bị từ lâu đã hết hạn sử dụng theo quy định về chế độ \
             hao mòn tài sản cố định, cấu hình thấp, không còn được hỗ trợ cập nhật bảo mật; một số \
             điểm thiếu thiết bị so với định mức và đường truyền chưa đạt tốc độ tối thiểu, ảnh hưởng \
             đến giải quyết thủ tục hành chính và chuyển đổi số. Việc đánh giá theo {}.",
            input.policy
        ),
        "2. Nội dung đề nghị".to_owned(),
    ];
    for item in &proposal.items {
        body.push(format!(
            "- {}: {} {}, thành tiền {} đồng. {}",
            item.name_vi,
            item.quantity,
            item.unit_vi.to_lowercase(),
            money(item.amount_vnd),
            item.reason_vi
        ));
    }
    if proposal.items.is_empty() {
        body.push("- Chưa có thiết bị nào cần thay thế hoặc bổ sung theo số liệu kiểm kê.".into());
    }
    body.push(format!(
        "Định mức áp dụng: {}. Chi tiết tại Phụ lục kèm theo.",
        input.norms.source_vi
    ));
    body.push("3. Kinh phí".to_owned());
    let issuer_lines = match issuer.strip_prefix("ỦY BAN NHÂN DÂN ") {
        Some(rest) => vec!["ỦY BAN NHÂN DÂN".to_owned(), rest.to_owned()],
        None => vec![issuer.clone()],
    };
    DocText {
        issuer_parent,
        issuer_lines,
        issuer,
        number,
        place_date: format!("{place}, {}", date_long(meta.date)),
        title: "TỜ TRÌNH".into(),
        subtitle: format!(
            "Về việc đề nghị đầu tư, thay thế trang thiết bị công nghệ thông tin năm {year}"
        ),
        addressees,
        body,
        total_line: format!(
            "Tổng kinh phí đề nghị: {} đồng ({} đơn vị thiết bị, đường truyền).",
            money(proposal.total_vnd),
            proposal.total_quantity
        ),
        words_line: format!("(Bằng chữ: {})", proposal.total_words_vi),
        closing: format!("{short_issuer} kính trình xem xét, quyết định./."),
        signature,
        copies,
        annex_title: "PHỤ LỤC".into(),
        annex_subtitle: "DANH MỤC TRANG THIẾT BỊ ĐỀ NGHỊ ĐẦU TƯ, THAY THẾ".into(),
        annex_caption: format!(
            "(Kèm theo Tờ trình số {number_ref} ngày {} của {})",
            meta.date.format("%d/%m/%Y"),
            capitalise(&short_issuer)
        ),
        notes_title: "Ghi chú".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_dates_as_documents_write_them() {
        assert_eq!(money(0), "0");
        assert_eq!(money(999), "999");
        assert_eq!(money(1_000), "1.000");
        assert_eq!(money(312_000_000), "312.000.000");
        assert_eq!(money(1_250_500_000), "1.250.500.000");
        assert_eq!(mbps(45.26), "45,3");
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(date_long(d(2026, 2, 5)), "ngày 05 tháng 02 năm 2026");
        assert_eq!(date_long(d(2026, 11, 22)), "ngày 22 tháng 11 năm 2026");
        assert_eq!(date_long(d(2026, 3, 10)), "ngày 10 tháng 3 năm 2026");
    }
}
