//! The account desk's rows of the matrix (AccountDeskService, docs/api.md): the desk of an
//! account is read by any role and holds each family's records as the caller reads them — a
//! quote of a deal the caller reads, an expense the caller reads (own, the manager's subtree,
//! any for an admin); another rep's are simply not in it. Run by `opportunities::run_actions`
//! over the same organisation, transports and report.

use crm_proto::crm::opportunities::v1::{
    self as pb, account_desk_service_client::AccountDeskServiceClient,
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{Expect, Http, Kind, NOT_FOUND, OK, Org, Refusal, Report, Role, Transport, Who};
use super::{
    call,
    expenses::expense,
    quotes::{Stage, quote_of},
};
use Role::{Admin, Manager, Rep};

/// One desk call; it answers the ids of the desk's quotes and expenses.
#[derive(Clone, Debug)]
pub(crate) struct Call(pub(crate) pb::GetAccountDeskRequest);

/// The desk of `owner`'s account, holding a quote and an expense of `owner`'s: whether each is
/// in the desk of each role's actor.
#[rustfmt::skip]
const DESKS: &[(Who, Expect, Expect, Expect)] = &[
    // owner    admin  manager    rep
    (Who::Ravi, OK,    OK,        OK),
    (Who::Nora, OK,    OK,        NOT_FOUND),
    (Who::Wes,  OK,    NOT_FOUND, NOT_FOUND),
];

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    for &(owner, admin, manager, rep) in DESKS {
        let (_, quote_id) = quote_of(org, owner, "0", Stage::Draft).await;
        let (expense_id, _) = expense(org, owner, false).await;
        let account_id = org.records[&(Kind::Account, owner)].clone();
        for (role, expected) in [(Admin, admin), (Manager, manager), (Rep, rep)] {
            let request = Call(pb::GetAccountDeskRequest {
                account_id: account_id.clone(),
                as_of: String::new(),
            });
            let request = super::Call::AccountDesk(request);
            let desk = call(transport, org.token(Who::actor(role)), request).await;
            let cell = format!("AccountDesk({owner:?}) | {role:?}");
            report.check_listed(&format!("{cell} × the quote"), expected, &desk, &quote_id);
            report.check_listed(
                &format!("{cell} × the expense"),
                expected,
                &desk,
                &expense_id,
            );
        }
    }
}

fn ids(desk: Option<pb::AccountDesk>) -> Vec<String> {
    let desk = desk.unwrap_or_default();
    let quotes = desk.quotes.into_iter().map(|quote| quote.id);
    quotes
        .chain(desk.expenses.into_iter().map(|e| e.id))
        .collect()
}

/// A call straight to the service's gRPC API.
pub(crate) async fn grpc(
    client: &AccountDeskServiceClient<Channel>,
    token: &str,
    Call(request): Call,
) -> Result<Vec<String>, Refusal> {
    let reply = client
        .clone()
        .get_account_desk(authorized(request, token))
        .await?;
    Ok(ids(reply.into_inner().desk))
}

/// A call through the gateway's HTTP/JSON front door (`GET /v1/accounts/{account_id}/desk`).
pub(crate) async fn http(
    door: &Http,
    token: &str,
    Call(request): Call,
) -> Result<Vec<String>, Refusal> {
    let path = format!("/v1/accounts/{}/desk", request.account_id);
    let json = door.send(http::Method::GET, &path, token, None).await?;
    let listed = |field: &str| {
        json["desk"][field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|record| Some(record["id"].as_str()?.to_owned()))
            .collect::<Vec<_>>()
    };
    Ok([listed("quotes"), listed("expenses")].concat())
}
