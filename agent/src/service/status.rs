//! The text of `kiemke-agent status`: whether the service runs, when the
//! agent last reported, the last error, what waits in the queue. Built from
//! plain values so it is tested on every OS; the command gathers them.

use std::fmt::Write;
use std::path::Path;

use chrono::{DateTime, Local, Utc};
use kiemke_shared::{AgentId, Lang};

use super::ServiceState;
use crate::activity::Activity;

/// The queue, when `status` could open it (the running service holds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueView {
    pub count: usize,
    pub bytes: u64,
    pub rejected: usize,
}

/// Everything `status` tells, gathered.
#[derive(Debug, Clone)]
pub struct StatusView<'a> {
    pub service: ServiceState,
    pub data_dir: &'a Path,
    pub agent_id: Option<AgentId>,
    pub activity: &'a Activity,
    /// `None`: the queue is in use by the service (or unreadable).
    pub queue: Option<QueueView>,
}

/// The status lines (before the enrollment lines).
pub fn render(view: &StatusView<'_>, lang: Lang, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let a = view.activity;
    let line = |out: &mut String, label: (&str, &str), value: &str| {
        let _ = writeln!(out, "{}: {value}", lang.pick(label.0, label.1));
    };
    line(
        &mut out,
        ("Dịch vụ", "Service"),
        &view.service.describe(lang),
    );
    let last = match a.last_report_at {
        Some(at) => when(at, now, lang),
        None => lang.pick("chưa lần nào", "never").to_owned(),
    };
    line(&mut out, ("Lần gửi báo cáo gần nhất", "Last report"), &last);
    let error = match &a.last_error {
        None => lang.pick("không có", "none").to_owned(),
        Some(e) => {
            let fixed = if a.failing() {
                ""
            } else {
                lang.pick(" — đã gửi được sau đó", " — delivered since")
            };
            format!("{} ({}){fixed}", e.message, when(e.at, now, lang))
        }
    };
    line(&mut out, ("Lỗi gần nhất", "Last error"), &error);
    let queue = match view.queue {
        Some(q) => match lang {
            Lang::Vi => format!(
                "{} báo cáo chờ gửi ({} byte), {} bị từ chối",
                q.count, q.bytes, q.rejected
            ),
            Lang::En => format!(
                "{} report(s) waiting ({} bytes), {} refused",
                q.count, q.bytes, q.rejected
            ),
        },
        None => match lang {
            Lang::Vi => format!(
                "đang được dịch vụ sử dụng; sau lần gửi gần nhất còn {} báo cáo chờ",
                a.pending
            ),
            Lang::En => format!(
                "in use by the service; {} report(s) were waiting after the last pass",
                a.pending
            ),
        },
    };
    line(&mut out, ("Hàng đợi", "Queue"), &queue);
    let id = view.agent_id.map_or_else(
        || lang.pick("(chưa có)", "(none yet)").to_owned(),
        |id| id.to_string(),
    );
    line(&mut out, ("Mã tác tử", "Agent id"), &id);
    line(
        &mut out,
        ("Thư mục dữ liệu", "Data directory"),
        &view.data_dir.display().to_string(),
    );
    out
}

/// A time as the PC's clock shows it, and how long ago.
fn when(at: DateTime<Utc>, now: DateTime<Utc>, lang: Lang) -> String {
    let local = at.with_timezone(&Local).format("%d/%m/%Y %H:%M");
    format!("{local}, {}", ago(now - at, lang))
}

fn ago(elapsed: chrono::TimeDelta, lang: Lang) -> String {
    let minutes = elapsed.num_minutes();
    let (n, vi, en) = if minutes < 1 {
        return lang.pick("vừa xong", "just now").to_owned();
    } else if minutes < 120 {
        (minutes, "phút", "minute(s)")
    } else if minutes < 48 * 60 {
        (minutes / 60, "giờ", "hour(s)")
    } else {
        (minutes / (24 * 60), "ngày", "day(s)")
    };
    match lang {
        Lang::Vi => format!("cách đây {n} {vi}"),
        Lang::En => format!("{n} {en} ago"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::LastError;
    use chrono::{TimeDelta, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0)
            .single()
            .expect("valid time")
    }

    #[test]
    fn a_failing_agent_says_so_in_vietnamese() {
        let activity = Activity {
            last_report_at: Some(now() - TimeDelta::days(3)),
            last_error: Some(LastError {
                at: now() - TimeDelta::minutes(5),
                message: "không kết nối được máy chủ".into(),
            }),
            pending: 4,
            ..Activity::default()
        };
        let view = StatusView {
            service: ServiceState::Running,
            data_dir: Path::new("/var/lib/kiemke-agent"),
            agent_id: None,
            activity: &activity,
            queue: None,
        };
        let text = render(&view, Lang::Vi, now());
        assert!(text.contains("Dịch vụ: đang chạy\n"), "{text}");
        assert!(text.contains("cách đây 3 ngày"), "{text}");
        assert!(
            text.contains("Lỗi gần nhất: không kết nối được máy chủ ("),
            "{text}"
        );
        assert!(text.contains("cách đây 5 phút)\n"), "still failing: {text}");
        assert!(text.contains("còn 4 báo cáo chờ"), "{text}");
        assert!(text.contains("Mã tác tử: (chưa có)"), "{text}");
    }

    #[test]
    fn a_healthy_agent_in_english() {
        let activity = Activity {
            last_report_at: Some(now() - TimeDelta::hours(5)),
            last_error: Some(LastError {
                at: now() - TimeDelta::days(10),
                message: "timeout".into(),
            }),
            ..Activity::default()
        };
        let view = StatusView {
            service: ServiceState::NotInstalled,
            data_dir: Path::new("/tmp/x"),
            agent_id: None,
            activity: &activity,
            queue: Some(QueueView {
                count: 0,
                bytes: 0,
                rejected: 1,
            }),
        };
        let text = render(&view, Lang::En, now());
        assert!(text.contains("Service: NOT installed"), "{text}");
        assert!(text.contains("5 hour(s) ago"), "{text}");
        assert!(text.contains("— delivered since"), "{text}");
        assert!(
            text.contains("Queue: 0 report(s) waiting (0 bytes), 1 refused"),
            "{text}"
        );
    }

    #[test]
    fn a_new_install_has_never_reported() {
        let activity = Activity::default();
        let view = StatusView {
            service: ServiceState::Starting,
            data_dir: Path::new("/d"),
            agent_id: None,
            activity: &activity,
            queue: None,
        };
        let text = render(&view, Lang::Vi, now());
        assert!(
            text.contains("Lần gửi báo cáo gần nhất: chưa lần nào"),
            "{text}"
        );
        assert!(text.contains("Lỗi gần nhất: không có"), "{text}");
        assert_eq!(ago(TimeDelta::seconds(20), Lang::Vi), "vừa xong");
    }
}
