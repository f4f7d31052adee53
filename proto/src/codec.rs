//! The codec of every generated service and client (`codec_path` in `build.rs`): prost's,
//! with the text rule ([`crate::text`]) checked on each request as it is decoded, so every
//! service refuses a control character in any text field the same way before its own code
//! runs — and every HTTP request too, which the gateway transcodes into these requests.
//!
//! Only messages that are the input of some RPC are checked; a client decoding a response,
//! and encoding either way, is prost's codec unchanged.

use std::marker::PhantomData;

use bytes::Buf;
use tonic::{
    Code, Status,
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
};
use tonic_prost::ProstEncoder;
use tonic_types::{ErrorDetails, StatusExt};

use crate::{
    request_text::{Scan, plans},
    text::Violation,
};

/// The message of a request refused for its text: the one every refusal with field violations
/// carries (the platform's `CommonError::Invalid`).
pub const INVALID_MESSAGE: &str = "the request has invalid fields";

/// [`tonic_prost::ProstCodec`] plus the text rule on requests.
#[derive(Debug, Clone)]
pub struct CrmCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for CrmCodec<T, U> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<T, U> Codec for CrmCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + prost::Name + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = CheckedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        CheckedDecoder {
            plan: plans().request(U::PACKAGE, U::NAME),
            _type: PhantomData,
        }
    }
}

/// Decodes `U`; when `U` is a request with text, checks the text first.
#[derive(Debug, Clone)]
pub struct CheckedDecoder<U> {
    /// The request's plan, looked up once per call (a stream's messages share it).
    plan: Option<usize>,
    _type: PhantomData<U>,
}

impl<U: prost::Message + prost::Name + Default> Decoder for CheckedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buffer: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let Some(plan) = self.plan else {
            return U::decode(buffer).map(Some).map_err(decode_error);
        };
        let length = buffer.remaining();
        // A message arrives in one piece (tonic gathers it before decoding); should it not,
        // it is gathered here.
        if buffer.chunk().len() == length {
            let decoded = decode_request::<U>(plan, buffer.chunk());
            buffer.advance(length);
            decoded.map(Some)
        } else {
            let bytes = buffer.copy_to_bytes(length);
            decode_request::<U>(plan, &bytes).map(Some)
        }
    }
}

fn decode_request<U: prost::Message + Default>(plan: usize, bytes: &[u8]) -> Result<U, Status> {
    if plans().scan(plan, bytes) == Scan::Refused {
        return Err(refusal(plans().violations(plan, bytes, "")));
    }
    U::decode(bytes).map_err(|error| {
        // Most often a text field that is not UTF-8: named like any other bad field.
        let violations = plans().violations(plan, bytes, "");
        if violations.is_empty() {
            decode_error(error)
        } else {
            refusal(violations)
        }
    })
}

/// INVALID_ARGUMENT with a google.rpc.BadRequest naming each field, as every service refuses
/// invalid fields.
fn refusal(violations: Vec<Violation>) -> Status {
    let mut details = ErrorDetails::new();
    for violation in violations {
        details.add_bad_request_violation(violation.field, violation.description);
    }
    Status::with_error_details(Code::InvalidArgument, INVALID_MESSAGE, details)
}

/// As tonic-prost answers bytes that are no message (gRPC's status codes say INTERNAL).
fn decode_error(error: prost::DecodeError) -> Status {
    Status::internal(error.to_string())
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::crm::accounts::v1 as pb;

    /// Decodes `bytes` as the server's decoder decodes a request of type `U` (the decoder's
    /// buffer is tonic's own and cannot be made outside it; the services' tests go through it).
    fn decode<U: prost::Message + prost::Name + Default + Send + 'static>(
        bytes: &[u8],
    ) -> Result<U, Status> {
        let mut codec = CrmCodec::<pb::CreateAccountResponse, U>::default();
        match codec.decoder().plan {
            Some(plan) => decode_request(plan, bytes),
            None => U::decode(bytes).map_err(decode_error),
        }
    }

    fn request(name: &str) -> pb::CreateAccountRequest {
        pb::CreateAccountRequest {
            account: Some(pb::AccountInput {
                name: name.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_request_with_a_control_character_is_refused_naming_the_field() {
        let status =
            decode::<pb::CreateAccountRequest>(&request("x\0y").encode_to_vec()).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), INVALID_MESSAGE);
        let details = status.get_error_details();
        let violation = &details.bad_request().unwrap().field_violations[0];
        assert_eq!(violation.field, "account.name");
        assert!(violation.description.contains("U+0000"), "{violation:?}");
    }

    #[test]
    fn a_clean_request_decodes_as_prost_decodes_it() {
        let sent = request("Contoso 中国");
        assert_eq!(
            decode::<pb::CreateAccountRequest>(&sent.encode_to_vec()).unwrap(),
            sent
        );
    }

    #[test]
    fn a_response_is_not_checked() {
        let response = pb::GetAccountResponse {
            account: Some(pb::Account {
                name: "stored\0before".into(),
                ..Default::default()
            }),
        };
        let mut codec = CrmCodec::<pb::GetAccountRequest, pb::GetAccountResponse>::default();
        assert!(codec.decoder().plan.is_none());
        let decoded = decode::<pb::GetAccountResponse>(&response.encode_to_vec()).unwrap();
        assert_eq!(decoded, response);
    }

    #[test]
    fn text_that_is_not_utf8_is_invalid_argument_too() {
        // CreateAccountRequest { account: AccountInput { name: b"\xff" } }
        let status =
            decode::<pb::CreateAccountRequest>(&[0x0A, 0x03, 0x0A, 0x01, 0xFF]).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        let garbage = decode::<pb::CreateAccountRequest>(&[0x0A, 0x05]).unwrap_err();
        assert_eq!(garbage.code(), Code::Internal);
    }
}
