//! What the web tests share, in process and in `tests/`: the real server, on a real socket
//! on `127.0.0.1:0`, over a fresh database with entities and the Emilia-Romagna call.
//! Public so that the integration tests can use it; not part of the product.

use std::sync::Arc;

use bandi_domain::call::Call;
use bandi_domain::entity::{Entity, EntityCode, EntityKind};
use bandi_store::Store;
use bandi_store::intake::Intake;
use bandi_store::testing::TestDb;
use jiff::{SignedDuration, Timestamp};

use crate::{AppState, NetConfig};
use bandi_app::App;

pub const ER_CALL_TOML: &str = include_str!("../../../calls/er-2020-smart-working.toml");
pub const ER_CALL: &str = "er-2020-smart-working";

/// An entity of `kind` in Ravenna's province, region `region` (ISTAT code, `08` for
/// Emilia-Romagna).
pub fn entity(code: &str, name: &str, kind: EntityKind, region: &str) -> Entity {
    Entity {
        code: EntityCode::parse(code).expect("a valid entity code"),
        name: name.into(),
        kind,
        fiscal_code: None,
        province: Some("RA".into()),
        region_code: Some(region.into()),
        istat_code: None,
        pec: None,
        members: vec![],
    }
}

/// A running server and its database.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    pub store: Store,
    pub db: TestDb,
}

/// The ER call, opening `opens_in` from now.
pub fn er_call(opens_in: SignedDuration) -> Call {
    let mut call = Call::from_toml(ER_CALL_TOML).expect("the ER call parses");
    call.reschedule(Timestamp::now() + opens_in, None)
        .expect("reschedule");
    call
}

impl TestServer {
    /// Migrates `db`, adds `entities`, publishes the ER call opening `opens_in` from now,
    /// and serves with an intake queue of `queue` submissions.
    pub async fn start(
        db: TestDb,
        entities: &[Entity],
        opens_in: SignedDuration,
        queue: usize,
    ) -> TestServer {
        TestServer::start_with(db, entities, &er_call(opens_in), queue).await
    }

    /// The same with `call` instead of the ER call as shipped.
    pub async fn start_with(
        db: TestDb,
        entities: &[Entity],
        call: &Call,
        queue: usize,
    ) -> TestServer {
        TestServer::start_with_net(db, entities, call, queue, NetConfig::default()).await
    }

    /// The same, meeting the network as `net` says (trusted proxies, timeouts, caps).
    pub async fn start_with_net(
        db: TestDb,
        entities: &[Entity],
        call: &Call,
        queue: usize,
        net: NetConfig,
    ) -> TestServer {
        TestServer::start_for_site(db, entities, call, queue, net, crate::site::Site::default())
            .await
    }

    /// The same for the deployment that `site` describes (its header, footer, open data).
    pub async fn start_for_site(
        db: TestDb,
        entities: &[Entity],
        call: &Call,
        queue: usize,
        net: NetConfig,
        site: crate::site::Site,
    ) -> TestServer {
        let store = Store::connect(&db.url).await.expect("connect");
        store.migrate().await.expect("migrate");
        store.upsert_entities(entities).await.expect("entities");
        store.import_call(call).await.expect("import the call");
        // The tests assert every answer: no shedding for a busy machine (the store's
        // contract tests cover it).
        let intake = Intake::start(store.clone(), queue)
            .with_max_queue_delay(std::time::Duration::from_secs(600));
        let app = App::new(store.clone(), intake);
        // Signing as a deployment does, with a key of this test's own.
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("random bytes");
        app.use_signing_key(bandi_domain::proof::SigningKeyPair::from_secret(secret))
            .await
            .expect("the signing key");
        let state = Arc::new(AppState::new(app, net).with_site(site));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let origin = format!("http://{}", listener.local_addr().expect("an address"));
        tokio::spawn(crate::serve(listener, state, std::future::pending()));
        TestServer { origin, store, db }
    }
}
