//! The account 360 view's rows of the matrix (issue #10 item 11, the gateway's
//! AccountViewService), run by the parent file's record tests over the same organisation,
//! transports and report.
//!
//! The gateway assembles the view with the caller's own token, so it follows the services'
//! rules: an account is viewed exactly when it can be read (the same own / team / other cells
//! as AccountService reads; out of reach is NOT_FOUND), and the view holds the account's
//! contact and deal the caller may see — and not a deal on the account the caller may not see
//! (Ada's own deal on Ravi's account: in the admin's view only). There is no write.

use crm_proto::crm::{
    common::v1::Money,
    gateway::v1::{self as pb, account_view_service_client::AccountViewServiceClient},
    opportunities::v1::{self as deals, opportunity_service_client::OpportunityServiceClient},
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::{Expect, Http, Kind, NOT_FOUND, OK, Org, Refusal, Rel, Report, Role, Transport, Who};
use Rel::{Other, Own, Team};
use Role::{Admin, Manager, Rep};

/// Read = GetAccount360 of the account answers, with the owner's contact and deal in it.
#[rustfmt::skip]
const VIEWS: &[(Role, Rel, Expect)] = &[
    // role    account  read
    (Admin,    Own,     OK),
    (Admin,    Team,    OK),
    (Admin,    Other,   OK),
    (Manager,  Own,     OK),
    (Manager,  Team,    OK),
    (Manager,  Other,   NOT_FOUND),
    (Rep,      Own,     OK),
    (Rep,      Team,    NOT_FOUND),
    (Rep,      Other,   NOT_FOUND),
];

/// Ada's own deal on Ravi's account, in the views of Ravi's account by those who may see it
/// (Ada herself as the admin, Mei as his manager, Ravi): shown only to whom the deal is visible.
#[rustfmt::skip]
const FOREIGN_DEAL: &[(Role, Expect)] = &[
    // role    Ada's deal
    (Admin,    OK),
    (Manager,  NOT_FOUND),
    (Rep,      NOT_FOUND),
];

/// The ids a view holds: its contacts' and its deals' (open and closed).
pub(super) fn ids(view: pb::GetAccount360Response) -> Vec<String> {
    let contacts = view.contacts.into_iter().map(|contact| contact.id);
    let deals = view
        .open_opportunities
        .into_iter()
        .chain(view.closed_opportunities)
        .map(|deal| deal.id);
    contacts.chain(deals).collect()
}

/// The view over gRPC.
pub(super) async fn grpc(
    client: &AccountViewServiceClient<Channel>,
    token: &str,
    account_id: String,
) -> Result<Vec<String>, Refusal> {
    let view = client
        .clone()
        .get_account360(authorized(pb::GetAccount360Request { account_id }, token))
        .await?
        .into_inner();
    Ok(ids(view))
}

/// The view through the front door (`GET /v1/accountViews/{account_id}`).
pub(super) async fn http(
    transport: &Http,
    token: &str,
    account_id: String,
) -> Result<Vec<String>, Refusal> {
    let path = format!("/v1/accountViews/{account_id}");
    let json = transport
        .send(http::Method::GET, &path, token, None)
        .await?;
    let listed = |field: &str| {
        json[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|record| Some(record["id"].as_str()?.to_owned()))
            .collect::<Vec<_>>()
    };
    Ok([
        listed("contacts"),
        listed("open_opportunities"),
        listed("closed_opportunities"),
    ]
    .concat())
}

pub(super) async fn run_records<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    for &(role, rel, read) in VIEWS {
        let owner = Who::owner(role, rel);
        let cell = format!("AccountView | {role:?} × {rel:?}");
        let viewed = view(org, transport, Who::actor(role), owner).await;
        report.check(&format!("{cell} × read (GetAccount360)"), read, &viewed);
        if read == OK {
            for kind in [Kind::Contact, Kind::Opportunity] {
                let id = &org.records[&(kind, owner)];
                let what = format!("{cell} × the account's {kind:?} in the view");
                report.check_listed(&what, OK, &viewed, id);
            }
        }
    }

    let adas_deal = adas_deal_on_ravis_account(org).await;
    for &(role, shown) in FOREIGN_DEAL {
        let viewed = view(org, transport, Who::actor(role), Who::Ravi).await;
        let cell = format!("AccountView | {role:?} × Ada's deal on Ravi's account");
        report.check_listed(&cell, shown, &viewed, &adas_deal);
    }
}

async fn view<T: Transport>(
    org: &Org,
    transport: &T,
    viewer: Who,
    owner: Who,
) -> Result<Vec<String>, Refusal> {
    let account_id = org.records[&(Kind::Account, owner)].clone();
    transport
        .call(org.token(viewer), super::Call::AccountView { account_id })
        .await
}

/// A deal Ada makes for herself on Ravi's account (known to the opportunities service since
/// Ravi's own deal was made on it).
async fn adas_deal_on_ravis_account(org: &Org) -> String {
    OpportunityServiceClient::new(org.channel.clone())
        .create_opportunity(authorized(
            deals::CreateOpportunityRequest {
                opportunity: Some(deals::OpportunityInput {
                    name: "Ada's pilot on Ravi's account".into(),
                    account_id: org.records[&(Kind::Account, Who::Ravi)].clone(),
                    amount: Some(Money {
                        currency_code: "CNY".into(),
                        amount: "90000.00".into(),
                    }),
                    expected_close_date: "2027-02-15".into(),
                    ..Default::default()
                }),
                opportunity_id: String::new(),
            },
            org.token(Who::Ada),
        ))
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap()
        .id
}
