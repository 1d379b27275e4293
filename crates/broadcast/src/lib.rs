//! # broadcast
//!
//! The live common picture over WebSockets, and the HTTP API, on one port.
//!
//! Data flows one way: the pipeline publishes picture [`view::Change`]s and
//! alerts into the [`hub::Hub`]; the hub coalesces them per client and
//! subscription; each client's [`session`] task writes snapshots and updates
//! at the rate the client asked for. Queries (snapshots, `/api/…`) go to the
//! picture through the [`api::PictureApi`] trait, which the `lookout` binary
//! implements. [`auth`] checks tokens and roles, [`protocol`] checks client
//! messages, [`http`] routes requests, [`server`] binds and shuts down
//! gracefully within the connection limits of [`conn`]; [`input`] checks
//! times, ids and text at the edge. SAR contacts and incidents go through the [`api::SarApi`]
//! trait (HTTP) and the [`sar_channel`] WebSocket channels. The protocol is
//! documented in `docs/protocol.md`. [`params`] types the query parameters
//! of every route (an unknown one is 400), and [`openapi`] is the OpenAPI
//! 3.1 document of the HTTP API (`/api/openapi.json`), built from them.

pub mod api;
pub mod auth;
pub mod conn;
pub mod geo_response;
pub mod http;
pub mod hub;
pub mod input;
pub mod metrics_format;
pub mod openapi;
pub mod params;
pub mod process_metrics;
pub mod protocol;
pub mod sar_channel;
pub mod server;
pub mod session;
pub mod view;

pub use api::{ApiError, PictureApi, SarApi};
pub use auth::{Auth, AuthConfig, Role};
pub use http::AppState;
pub use hub::Hub;
pub use protocol::Limits;
pub use view::{BBox, Change, Filter, VesselView, VesselWire};
