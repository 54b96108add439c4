//! The pure domain of `bandi`: no I/O, no async, no database.
//!
//! Where things live: [`money`] (cents and basis points), [`call`] (the rules of a call and
//! its TOML file), [`application`] (an applicant's content and its validation), [`allocation`]
//! (the fold that reserves the money), [`ledger`] (the hash chain), [`entity`] and
//! [`registry`] (local authorities and their import files).

pub mod account;
pub mod allocation;
pub mod application;
pub mod call;
pub mod document;
pub mod entity;
pub mod fold_log;
pub mod i18n;
pub mod instant;
pub mod json;
pub mod ledger;
pub mod list;
pub mod money;
pub mod notice;
pub mod parallel;
pub mod practice;
pub mod proof;
pub mod protocol;
pub mod registry;
pub mod report;
pub mod retry;
pub mod review;
pub mod service;
pub mod text;
