//! What one client may have in progress at once: submissions and live streams per address,
//! live streams and uploads per session, uploads in all. Each place is held until the
//! request (or the stream) ends; past a limit the answer is at once, with `Retry-After`.

use std::sync::Arc;

use axum::http::StatusCode;
use bandi_store::intake::{InFlight, Slot};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::ApiError;
use crate::net::NetConfig;

pub struct Limits {
    submissions_per_address: Arc<InFlight>,
    streams_per_address: Arc<InFlight>,
    streams_per_session: Arc<InFlight>,
    uploads_per_session: Arc<InFlight>,
    uploads: Arc<Semaphore>,
}

/// A place held for an upload: in all and for its session.
pub struct UploadPlace {
    _all: OwnedSemaphorePermit,
    _session: Slot,
}

/// A place held for a live stream: for its address, and for its session if it has one.
pub struct StreamPlace {
    _address: Slot,
    _session: Option<Slot>,
}

fn too_many(it: &str, en: &str) -> ApiError {
    let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", it, en);
    e.retry_after = Some(2);
    e
}

impl Limits {
    pub fn new(c: &NetConfig) -> Limits {
        Limits {
            submissions_per_address: InFlight::new(c.max_submissions_per_address),
            streams_per_address: InFlight::new(c.max_streams_per_address),
            streams_per_session: InFlight::new(c.max_streams_per_session),
            uploads_per_session: InFlight::new(c.max_uploads_per_session),
            uploads: Arc::new(Semaphore::new(c.max_uploads.max(1))),
        }
    }

    pub fn submission(&self, address: &str) -> Result<Slot, ApiError> {
        self.submissions_per_address.take(address).ok_or_else(|| {
            too_many(
                "Troppe domande in corso da questo indirizzo: attendere le risposte e riprovare.",
                "Too many submissions in progress from this address: wait for the answers and retry.",
            )
        })
    }

    pub fn stream(&self, address: &str, session: Option<&str>) -> Result<StreamPlace, ApiError> {
        let refused = || {
            too_many(
                "Troppi aggiornamenti in diretta aperti: chiudere qualche scheda e ricaricare.",
                "Too many live updates open: close some tabs and reload.",
            )
        };
        let address = self.streams_per_address.take(address).ok_or_else(refused)?;
        let session = match session {
            Some(s) => Some(self.streams_per_session.take(s).ok_or_else(refused)?),
            None => None,
        };
        Ok(StreamPlace {
            _address: address,
            _session: session,
        })
    }

    pub fn upload(&self, session: &str) -> Result<UploadPlace, ApiError> {
        let session = self.uploads_per_session.take(session).ok_or_else(|| {
            too_many(
                "Un altro caricamento di file è in corso per questo utente: attendere che finisca e riprovare.",
                "Another upload is in progress for this user: wait for it to finish and retry.",
            )
        })?;
        let all = self.uploads.clone().try_acquire_owned().map_err(|_| {
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Molti file in caricamento in questo momento: riprovare tra qualche secondo. La bozza non è stata salvata.",
                "Many files are being uploaded right now: retry in a few seconds. The draft was not saved.",
            );
            e.retry_after = Some(2);
            e
        })?;
        Ok(UploadPlace {
            _all: all,
            _session: session,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_limited_per_key_and_come_back() {
        let limits = Limits::new(&NetConfig {
            max_submissions_per_address: 2,
            max_streams_per_address: 3,
            max_streams_per_session: 1,
            max_uploads: 2,
            max_uploads_per_session: 1,
            ..NetConfig::default()
        });
        // Submissions per address: one address cannot take every place; others can.
        let a1 = limits.submission("192.0.2.1").unwrap();
        let _a2 = limits.submission("192.0.2.1").unwrap();
        let refused = limits.submission("192.0.2.1").err().unwrap();
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.retry_after.is_some());
        assert!(limits.submission("192.0.2.2").is_ok());
        drop(a1);
        assert!(limits.submission("192.0.2.1").is_ok(), "a place came back");
        // Streams: per session, then per address.
        let s1 = limits.stream("192.0.2.1", Some("s")).unwrap();
        assert!(limits.stream("192.0.2.1", Some("s")).is_err());
        let _s2 = limits.stream("192.0.2.1", Some("t")).unwrap();
        let _s3 = limits.stream("192.0.2.1", None).unwrap();
        assert!(
            limits.stream("192.0.2.1", Some("u")).is_err(),
            "the address's cap"
        );
        drop(s1);
        assert!(limits.stream("192.0.2.1", Some("s")).is_ok());
        // Uploads: per session, then in all.
        let u1 = limits.upload("s").unwrap();
        assert_eq!(
            limits.upload("s").err().unwrap().status,
            StatusCode::TOO_MANY_REQUESTS
        );
        let _u2 = limits.upload("t").unwrap();
        assert_eq!(
            limits.upload("u").err().unwrap().status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        drop(u1);
        assert!(limits.upload("u").is_ok());
    }
}
