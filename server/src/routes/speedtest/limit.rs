//! Limits on throughput tests, so a misconfigured fleet (or one agent in a
//! loop) cannot flood the province's line.
//!
//! A *test* is a session per client (the agent id its credential proves,
//! else its IP address: see `TestClient`): the first `garbage`/`empty` request starts one, and every
//! request from that client until it ends belongs to it (LibreSpeed's ping,
//! download and upload phases). A session ends `max_seconds` after it
//! started. Our agent also names each test (a fresh id per test, header
//! `x-kiemke-test`): a request with another test id than the current
//! session's starts a new test, so back-to-back tests count as two. Limits:
//! - at most `tests_per_hour` sessions per client in any hour;
//! - at most `max_bytes` moved (both directions) and `max_seconds` per
//!   session: streams are cut when either is reached;
//! - at most `max_concurrent` sessions at once across all clients.
//!
//! Pure logic over instants passed in, so tests choose the time.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiemke_shared::AgentId;
use uuid::Uuid;

const HOUR: Duration = Duration::from_secs(3600);
/// Clients remembered at most; the oldest idle ones are forgotten first.
const MAX_CLIENTS: usize = 100_000;

/// Who a test is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// An agent that presented its credential.
    Agent(AgentId),
    /// Anyone else, by address (an office behind one NAT shares it).
    Ip(IpAddr),
    /// No agent id and no address (only in tests without a socket).
    Unknown,
}

/// The configured limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub tests_per_hour: u32,
    pub max_seconds: u64,
    pub max_bytes: u64,
    pub max_concurrent: usize,
}

/// One test in progress.
#[derive(Debug)]
pub struct Session {
    /// The test id the client gave, if any.
    test: Option<Uuid>,
    until: Instant,
    max_bytes: u64,
    bytes: AtomicU64,
}

impl Session {
    /// Counts `n` bytes; false once the session is over its byte cap or its
    /// time, after which streams must stop.
    pub fn spend(&self, n: u64, now: Instant) -> bool {
        let total = self.bytes.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        total <= self.max_bytes && now < self.until
    }

    pub fn is_live(&self, now: Instant) -> bool {
        now < self.until && self.bytes.load(Ordering::Relaxed) < self.max_bytes
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The client used its tests for this hour.
    TooManyTests {
        per_hour: u32,
        retry_after: Duration,
    },
    /// This test reached its byte cap; the next may start after it ends.
    TestCapReached { retry_after: Duration },
    /// Too many tests are running at once.
    Busy { retry_after: Duration },
}

impl Refusal {
    pub fn retry_after(self) -> Duration {
        match self {
            Refusal::TooManyTests { retry_after, .. }
            | Refusal::TestCapReached { retry_after }
            | Refusal::Busy { retry_after } => retry_after,
        }
    }
}

#[derive(Debug, Default)]
struct Client {
    /// Start times of this client's sessions within the last hour.
    started: VecDeque<Instant>,
    current: Option<Arc<Session>>,
}

/// The limiter: shared by all speed-test requests.
#[derive(Debug)]
pub struct Limiter {
    limits: Limits,
    clients: Mutex<HashMap<ClientKey, Client>>,
}

impl Limiter {
    pub fn new(limits: Limits) -> Limiter {
        Limiter {
            limits,
            clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The session a request of `key` (naming `test`, if it does) at `now`
    /// belongs to, starting one if allowed.
    pub fn admit(
        &self,
        key: ClientKey,
        test: Option<Uuid>,
        now: Instant,
    ) -> Result<Arc<Session>, Refusal> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let session_length = Duration::from_secs(self.limits.max_seconds);
        if let Some(client) = clients.get(&key) {
            if let Some(current) = client
                .current
                .as_ref()
                .filter(|c| test.is_none() || c.test == test)
            {
                if current.is_live(now) {
                    return Ok(current.clone());
                }
                if now < current.until {
                    return Err(Refusal::TestCapReached {
                        retry_after: current.until - now,
                    });
                }
            }
        }
        // A client's own session about to be replaced does not count.
        let running = clients
            .iter()
            .filter(|(k, c)| **k != key && c.current.as_ref().is_some_and(|s| now < s.until))
            .count();
        if running >= self.limits.max_concurrent {
            let soonest = clients
                .values()
                .filter_map(|c| c.current.as_ref())
                .filter(|s| now < s.until)
                .map(|s| s.until - now)
                .min()
                .unwrap_or(session_length);
            return Err(Refusal::Busy {
                retry_after: soonest,
            });
        }
        if clients.len() >= MAX_CLIENTS && !clients.contains_key(&key) {
            forget_idle(&mut clients, now);
        }
        let client = clients.entry(key).or_default();
        while client
            .started
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= HOUR)
        {
            client.started.pop_front();
        }
        if client.started.len() >= self.limits.tests_per_hour as usize {
            let oldest = client.started.front().copied().unwrap_or(now);
            return Err(Refusal::TooManyTests {
                per_hour: self.limits.tests_per_hour,
                retry_after: HOUR.saturating_sub(now.saturating_duration_since(oldest)),
            });
        }
        let session = Arc::new(Session {
            test,
            until: now + session_length,
            max_bytes: self.limits.max_bytes,
            bytes: AtomicU64::new(0),
        });
        client.started.push_back(now);
        client.current = Some(session.clone());
        Ok(session)
    }
}

/// Drops clients with no session and no test in the last hour.
fn forget_idle(clients: &mut HashMap<ClientKey, Client>, now: Instant) {
    clients.retain(|_, c| {
        let recent = c
            .started
            .back()
            .is_some_and(|t| now.saturating_duration_since(*t) < HOUR);
        recent || c.current.as_ref().is_some_and(|s| now < s.until)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_hour: u32, max_concurrent: usize) -> Limiter {
        Limiter::new(Limits {
            tests_per_hour: per_hour,
            max_seconds: 60,
            max_bytes: 1000,
            max_concurrent,
        })
    }

    const A: ClientKey = ClientKey::Ip(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
    const B: ClientKey = ClientKey::Ip(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2)));

    #[test]
    fn requests_within_a_session_are_one_test() {
        let l = limiter(1, 10);
        let t0 = Instant::now();
        let first = l.admit(A, None, t0).expect("first test");
        let again = l
            .admit(A, None, t0 + Duration::from_secs(30))
            .expect("same test");
        assert!(Arc::ptr_eq(&first, &again));
    }

    #[test]
    fn tests_per_hour_are_counted_per_client() {
        let l = limiter(2, 10);
        let t0 = Instant::now();
        let minute = Duration::from_secs(61);
        l.admit(A, None, t0).expect("1st");
        l.admit(A, None, t0 + minute)
            .expect("2nd, after the 1st ended");
        let refused = l
            .admit(A, None, t0 + minute * 2)
            .expect_err("3rd within the hour");
        assert_eq!(
            refused,
            Refusal::TooManyTests {
                per_hour: 2,
                retry_after: HOUR - minute * 2
            }
        );
        l.admit(B, None, t0 + minute * 2)
            .expect("another client has its own quota");
        l.admit(A, None, t0 + HOUR).expect("an hour after the 1st");
    }

    #[test]
    fn a_session_stops_at_its_byte_cap_and_time() {
        let l = limiter(5, 10);
        let t0 = Instant::now();
        let s = l.admit(A, None, t0).expect("test");
        assert!(s.spend(600, t0));
        assert!(!s.spend(600, t0), "over 1000 bytes");
        let refused = l
            .admit(A, None, t0 + Duration::from_secs(10))
            .expect_err("capped");
        assert_eq!(
            refused,
            Refusal::TestCapReached {
                retry_after: Duration::from_secs(50)
            }
        );
        let s = l
            .admit(A, None, t0 + Duration::from_secs(60))
            .expect("next test");
        assert!(!s.spend(1, t0 + Duration::from_secs(121)), "past its time");
    }

    #[test]
    fn a_new_test_id_is_a_new_test() {
        let l = limiter(2, 10);
        let t0 = Instant::now();
        let (one, two, three) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let first = l.admit(A, Some(one), t0).expect("1st");
        let same = l.admit(A, Some(one), t0).expect("same id, same test");
        assert!(Arc::ptr_eq(&first, &same));
        let second = l.admit(A, Some(two), t0).expect("2nd right after");
        assert!(!Arc::ptr_eq(&first, &second));
        // Requests without an id (a LibreSpeed page) join the current test.
        assert!(Arc::ptr_eq(&second, &l.admit(A, None, t0).expect("joins")));
        assert!(matches!(
            l.admit(A, Some(three), t0),
            Err(Refusal::TooManyTests { .. })
        ));
    }

    #[test]
    fn concurrent_tests_are_capped() {
        let l = limiter(5, 1);
        let t0 = Instant::now();
        l.admit(A, None, t0).expect("first");
        let busy = l
            .admit(B, None, t0 + Duration::from_secs(20))
            .expect_err("second at once");
        assert_eq!(
            busy,
            Refusal::Busy {
                retry_after: Duration::from_secs(40)
            }
        );
        l.admit(B, None, t0 + Duration::from_secs(60))
            .expect("after the first ended");
    }
}
