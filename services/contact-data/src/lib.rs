//! Contact data rules shared by the leads and accounts services.
//!
//! Both services must normalise and compare contact data with exactly the same
//! rules, otherwise a lead and the account it belongs to would dedupe
//! differently. Everything here is pure: no I/O, no async, no global state.
//!
//! - Validating normalisers return [`ContactDataError`], whose `Display` text
//!   is meant to be shown to API callers as a field-violation description:
//!   [`normalize_email`], [`normalize_phone`].
//! - Match-key builders never fail, they only canonicalise:
//!   [`normalize_company_name`], [`normalize_person_name`], [`normalize_domain`].
//! - Every input is read in Unicode NFKC first (full-width digits, letters,
//!   brackets and punctuation as Chinese input methods type them are the ASCII
//!   they stand for); ASCII input skips that at the cost of one scan. Emails and
//!   phones are stored as normalised (ASCII, E.164), so what was typed in full
//!   width is not kept; names and companies are stored as typed and only their
//!   keys are normalised.
//! - Fuzzy matching: [`trigram_similarity`] (agrees with PostgreSQL `pg_trgm`)
//!   and [`assess_match`], which scores two [`ContactPoints`].

#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

mod company;
mod domain;
mod email;
mod error;
mod matching;
mod person;
mod phone;
mod similarity;
mod text;

pub use company::normalize_company_name;
pub use domain::{is_free_mail_domain, normalize_domain};
pub use email::normalize_email;
pub use error::ContactDataError;
pub use matching::{
    ContactPoints, DEFAULT_DUPLICATE_THRESHOLD, MatchAssessment, MatchReason,
    SIMILAR_COMPANY_THRESHOLD, assess_match,
};
pub use person::normalize_person_name;
pub use phone::{normalize_calling_code, normalize_phone};
pub use similarity::trigram_similarity;
