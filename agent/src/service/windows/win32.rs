//! The two Win32 calls the service needs and no maintained crate wraps in
//! a way worth its size: the data directory's ACL (from SDDL) and the Event
//! Log (`ReportEventW`, as a `tracing` layer).
//!
//! `unsafe` is allowed here only: every block is a single FFI call with
//! buffers owned by the caller for the duration of the call.
#![allow(unsafe_code)]

use std::ffi::OsStr;
use std::os::windows::ffi::OsStrExt;
use std::path::Path;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use windows_sys::Win32::Foundation::{HLOCAL, LocalFree};
use windows_sys::Win32::Security::Authorization::{
    ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1, SE_FILE_OBJECT,
    SetNamedSecurityInfoW,
};
use windows_sys::Win32::Security::{
    ACL, DACL_SECURITY_INFORMATION, GetSecurityDescriptorDacl, PROTECTED_DACL_SECURITY_INFORMATION,
    PSECURITY_DESCRIPTOR,
};
use windows_sys::Win32::System::EventLog::{
    EVENTLOG_ERROR_TYPE, EVENTLOG_INFORMATION_TYPE, EVENTLOG_WARNING_TYPE, RegisterEventSourceW,
    ReportEventW,
};

fn wide(s: &OsStr) -> Vec<u16> {
    s.encode_wide().chain(Some(0)).collect()
}

/// Replaces `dir`'s DACL with the one in `sddl`, cutting inheritance; the
/// new ACEs propagate to what is already inside.
pub fn set_dacl(dir: &Path, sddl: &str) -> std::io::Result<()> {
    let sddl_w = wide(OsStr::new(sddl));
    let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: sddl_w is NUL-terminated and lives through the call; sd
    // receives a LocalAlloc'd descriptor freed below.
    let ok = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl_w.as_ptr(),
            SDDL_REVISION_1,
            &mut sd,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let result = (|| {
        let mut present = 0;
        let mut defaulted = 0;
        let mut dacl: *mut ACL = std::ptr::null_mut();
        // SAFETY: sd is the valid descriptor made above.
        let ok = unsafe { GetSecurityDescriptorDacl(sd, &mut present, &mut dacl, &mut defaulted) };
        if ok == 0 || present == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let path_w = wide(dir.as_os_str());
        // SAFETY: path_w is NUL-terminated; dacl points into sd, alive here.
        let code = unsafe {
            SetNamedSecurityInfoW(
                path_w.as_ptr(),
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                dacl,
                std::ptr::null(),
            )
        };
        if code != 0 {
            return Err(std::io::Error::from_raw_os_error(code as i32));
        }
        Ok(())
    })();
    // SAFETY: sd was allocated by the conversion with LocalAlloc.
    unsafe { LocalFree(sd as HLOCAL) };
    result
}

/// A `tracing` layer writing events to the Windows Event Log (Application),
/// under the service's source name.
pub struct EventLogLayer {
    /// The event source handle, as an integer (it is only passed back to
    /// `ReportEventW`, which is thread-safe).
    handle: usize,
}

impl EventLogLayer {
    /// `None` when the Event Log cannot be opened (the file log still works).
    pub fn open(source: &str) -> Option<EventLogLayer> {
        let name = wide(OsStr::new(source));
        // SAFETY: name is NUL-terminated; a null server means this machine.
        let handle = unsafe { RegisterEventSourceW(std::ptr::null(), name.as_ptr()) };
        (!handle.is_null()).then_some(EventLogLayer {
            handle: handle as usize,
        })
    }

    fn report(&self, level: &Level, text: &str) {
        let kind = match *level {
            Level::ERROR => EVENTLOG_ERROR_TYPE,
            Level::WARN => EVENTLOG_WARNING_TYPE,
            _ => EVENTLOG_INFORMATION_TYPE,
        };
        let text_w = wide(OsStr::new(text));
        let strings = [text_w.as_ptr()];
        // SAFETY: one NUL-terminated string, alive through the call; the
        // handle came from RegisterEventSourceW and is never closed.
        unsafe {
            ReportEventW(
                self.handle as _,
                kind,
                0,
                1,
                std::ptr::null_mut(),
                1,
                0,
                strings.as_ptr(),
                std::ptr::null(),
            );
        }
    }
}

/// The message and the fields of an event, as one line.
#[derive(Default)]
struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for EventLogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut line = Line::default();
        event.record(&mut line);
        self.report(event.metadata().level(), &line.0);
    }
}
