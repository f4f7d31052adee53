//! The deal of scenario.md section 4, through the gateway's HTTP front door with the whole suite
//! in one process: Ravi's lead from the Spring Expo converts into a deal, which is refused leaving
//! Qualify until the budget and a decision maker are in, gets its committee, competitor and
//! splits, moves through every stage and is won — and the account's tier and the campaign's ROI
//! follow the win. Then every event the suite published is delivered again, as distinct events,
//! and nothing changes.

use std::time::Duration;

use crm_platform::{auth::Caller, events::DomainEvent};
use crm_proto::crm::{leads::v1 as leads, opportunities::v1 as deals};
use crm_test_support::{eventually, user};
use serde_json::{Value, json};
use suite::{Suite, cny, ok};
use uuid::Uuid;

#[path = "support/suite.rs"]
mod suite;

const EAST_1: &str = "/northwind/east/east-1/";
const DIRECT: &str = "01900000-0000-7000-8000-000000000001";
const DEVELOP: &str = "01900000-0000-7000-8000-000000000012";
const PROPOSE: &str = "01900000-0000-7000-8000-000000000013";
const NEGOTIATE: &str = "01900000-0000-7000-8000-000000000014";
const WON_FOR_PRODUCT_FIT: &str = "01900000-0000-7000-8000-000000000101";

impl Suite {
    /// Publishes every event `service`'s outbox holds again, each as a new event (a new event
    /// id and message id): neither the broker nor the inbox can drop them, so only the
    /// consumers' version checks and ids keep them from changing anything.
    async fn republish_everything(&self, service: &str) -> usize {
        let rows: Vec<(String, Vec<u8>)> =
            sqlx::query_as("SELECT event_type, payload FROM outbox ORDER BY id")
                .fetch_all(self.app.pool(service))
                .await
                .unwrap();
        let count = rows.len();
        for (event_type, payload) in rows {
            self.republish(&event_type, &payload).await;
        }
        count
    }

    async fn republish(&self, event_type: &str, payload: &[u8]) {
        async fn again<E: DomainEvent + Default>(suite: &Suite, payload: &[u8]) {
            let event = E::decode(payload).expect("an outbox payload decodes");
            let id = Uuid::now_v7();
            suite
                .app
                .publish_event_as("opportunities", &event, id, &id.to_string())
                .await;
        }
        match event_type.trim_start_matches("crm.opportunities.v1.") {
            "OpportunityCreated" => again::<deals::OpportunityCreated>(self, payload).await,
            "OpportunityStageChanged" => {
                again::<deals::OpportunityStageChanged>(self, payload).await
            }
            "OpportunityAmountChanged" => {
                again::<deals::OpportunityAmountChanged>(self, payload).await
            }
            "OpportunityCloseDateChanged" => {
                again::<deals::OpportunityCloseDateChanged>(self, payload).await
            }
            "OpportunityOwnerChanged" => {
                again::<deals::OpportunityOwnerChanged>(self, payload).await
            }
            "OpportunitySplitsChanged" => {
                again::<deals::OpportunitySplitsChanged>(self, payload).await
            }
            "OpportunityUpdated" => again::<deals::OpportunityUpdated>(self, payload).await,
            "OpportunityWon" => again::<deals::OpportunityWon>(self, payload).await,
            "OpportunityLost" => again::<deals::OpportunityLost>(self, payload).await,
            "OpportunityReopened" => again::<deals::OpportunityReopened>(self, payload).await,
            "OpportunityArchived" => again::<deals::OpportunityArchived>(self, payload).await,
            "crm.leads.v1.LeadConverted" => again::<leads::LeadConverted>(self, payload).await,
            _ => {}
        }
    }
}

/// What a replay must leave as it was: the deal, the account's tier and revenue, the campaign
/// funnel, and how many deals, accounts and contacts exist.
async fn snapshot(
    suite: &Suite,
    ravi: &Caller,
    ada: &Caller,
    deal: &str,
    account: &str,
    campaign: &str,
) -> Value {
    json!({
        "deal": suite.get(ravi, &format!("/v1/opportunities/{deal}")).await,
        "account": suite.get(ravi, &format!("/v1/accounts/{account}")).await,
        "funnel": suite.get(ada, &format!("/v1/campaigns/{campaign}/funnel")).await,
        "deals": suite.count("opportunities", "SELECT count(*) FROM opportunities").await,
        "accounts": suite.count("accounts", "SELECT count(*) FROM accounts").await,
        "contacts": suite.count("accounts", "SELECT count(*) FROM contacts").await,
        "history": suite.count("opportunities", "SELECT count(*) FROM stage_history").await,
    })
}

#[tokio::test]
async fn a_converted_lead_is_won_through_the_gateway_and_tiers_and_roi_follow_exactly_once() {
    let suite = Suite::start().await;
    let ada = user("admin", "/northwind/");
    let ravi = user("rep", EAST_1);
    let engineer = user("rep", EAST_1);

    // The organisation reports in CNY; accounts are tier A from 1,000,000 won in a year.
    ok(suite
        .http
        .patch_json(
            "/v1/orgSettings",
            Some(&suite.token(&ada)),
            &json!({"corporate_currency": "CNY"}),
        )
        .await);
    ok(suite
        .http
        .send_json(
            http::Method::PUT,
            "/v1/tierSettings",
            Some(&suite.token(&ada)),
            &json!({"a_threshold": cny("1000000"), "b_threshold": cny("100000")}),
        )
        .await);
    // Leaving Qualify needs the budget and a decision maker.
    let pipeline = suite.get(&ada, &format!("/v1/pipelines/{DIRECT}")).await["pipeline"].clone();
    let stages: Vec<Value> = pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|stage| {
            let mut input = json!({
                "id": stage["id"], "name": stage["name"], "kind": stage["kind"],
                "default_probability": stage["default_probability"],
                "forecast_category": stage["forecast_category"],
            });
            if stage["name"] == "Qualify" {
                input["exit_criteria"] =
                    json!(["custom_fields.budget", "buying_committee.decision_maker"]);
            }
            input
        })
        .collect();
    ok(suite
        .http
        .patch_json(
            &format!("/v1/pipelines/{DIRECT}"),
            Some(&suite.token(&ada)),
            &json!({"stages": {"stages": stages}}),
        )
        .await);
    let globex = ok(suite
        .post(&ada, "/v1/competitors", json!({"name": "Globex"}))
        .await)["competitor"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let campaign = ok(suite
        .post(
            &ada,
            "/v1/campaigns",
            json!({"campaign": {"name": "Spring Expo", "cost": cny("100000")}}),
        )
        .await)["campaign"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Ravi's lead from the expo, qualified and converted.
    let lead = ok(suite
        .post(
            &ravi,
            "/v1/leads",
            json!({"lead": {"first_name": "Wei", "last_name": "Li", "email": "li.wei@contoso.cn",
                "company": "Contoso Ltd", "campaign_id": campaign}}),
        )
        .await)["lead"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(suite
        .post(&ravi, &format!("/v1/leads/{lead}:qualify"), json!({}))
        .await);
    let converted = ok(suite
        .post(
            &ravi,
            &format!("/v1/leads/{lead}:convert"),
            json!({"opportunity_name": "Contoso — Line 3 automation",
                "opportunity_amount": cny("1200000.00"), "expected_close_date": "2027-01-30"}),
        )
        .await);
    let deal = converted["opportunity_id"].as_str().unwrap().to_owned();
    let account = converted["account_id"].as_str().unwrap().to_owned();
    let li_wei = converted["contact_id"].as_str().unwrap().to_owned();
    eventually(
        Duration::from_secs(20),
        "the converted deal exists",
        || async {
            suite
                .http
                .get(
                    &format!("/v1/opportunities/{deal}"),
                    Some(&suite.token(&ravi)),
                )
                .await
                .status
                == 200
        },
    )
    .await;

    // Refused leaving Qualify, naming both missing fields.
    let refused = suite
        .post(
            &ravi,
            &format!("/v1/opportunities/{deal}:changeStage"),
            json!({"stage_id": DEVELOP}),
        )
        .await;
    assert_eq!(
        refused.status,
        422,
        "{}",
        String::from_utf8_lossy(&refused.body)
    );
    let problem = refused.json();
    assert_eq!(problem["reason"], "EXIT_CRITERIA_NOT_MET");
    let fields: Vec<&str> = problem["field_violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|violation| violation["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["custom_fields.budget", "buying_committee.decision_maker"]
    );

    ok(suite
        .http
        .patch_json(
            &format!("/v1/opportunities/{deal}"),
            Some(&suite.token(&ravi)),
            &json!({"patch": {"custom_fields": {"budget": "approved"}, "next_step": "Site visit"}}),
        )
        .await);
    let zhang = suite
        .post_when_known(
            &ravi,
            "/v1/contacts",
            json!({"contact": {"account_id": account, "full_name": "Zhang Min", "title": "CFO"}}),
        )
        .await["contact"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    suite
        .post_when_known(
            &ravi,
            &format!("/v1/opportunities/{deal}:setCommittee"),
            json!({"members": [
                {"contact_id": li_wei, "role": "BUYING_ROLE_CHAMPION", "attitude": "ATTITUDE_SUPPORTER", "influences": [zhang]},
                {"contact_id": zhang, "role": "BUYING_ROLE_DECISION_MAKER", "attitude": "ATTITUDE_SCEPTICAL"},
            ]}),
        )
        .await;
    ok(suite
        .post(
            &ravi,
            &format!("/v1/opportunities/{deal}:setCompetitors"),
            json!({"competitors": [{"competitor_id": globex, "strengths": "Price"}]}),
        )
        .await);
    ok(suite
        .post(
            &ravi,
            &format!("/v1/opportunities/{deal}:setTeam"),
            json!({"team": [{"user_id": engineer.user_id, "role": "DEAL_TEAM_ROLE_SALES_ENGINEER"}],
                "splits": [{"user_id": ravi.user_id, "percent": "80"}, {"user_id": engineer.user_id, "percent": "20"}]}),
        )
        .await);
    for stage in [DEVELOP, PROPOSE, NEGOTIATE] {
        ok(suite
            .post(
                &ravi,
                &format!("/v1/opportunities/{deal}:changeStage"),
                json!({"stage_id": stage}),
            )
            .await);
    }
    let won = ok(suite
        .post(
            &ravi,
            &format!("/v1/opportunities/{deal}:win"),
            json!({"close_reason_id": WON_FOR_PRODUCT_FIT, "final_amount": cny("1150000.00")}),
        )
        .await)["opportunity"]
        .clone();
    assert_eq!(won["status"], "OPPORTUNITY_STATUS_WON");
    assert_eq!(won["corporate_amount"]["amount"]["amount"], "1150000");
    assert_eq!(won["corporate_amount"]["rate"], "1");
    assert_eq!(
        won["competitors"][0]["status"],
        "COMPETITOR_STATUS_WON_AGAINST"
    );

    // The account is tier A on 1,150,000 won; the campaign won 1,150,000 for a 100,000 cost:
    // ROI (1,150,000 − 100,000) / 100,000 = 10.5.
    eventually(Duration::from_secs(20), "the account is tier A", || async {
        suite.get(&ravi, &format!("/v1/accounts/{account}")).await["account"]["tier"]
            == "ACCOUNT_TIER_A"
    })
    .await;
    eventually(
        Duration::from_secs(20),
        "the campaign counts the win",
        || async {
            let won = &suite
                .get(&ada, &format!("/v1/campaigns/{campaign}/funnel"))
                .await["won"];
            *won == json!(1) || *won == json!("1")
        },
    )
    .await;
    let funnel = suite
        .get(&ada, &format!("/v1/campaigns/{campaign}/funnel"))
        .await;
    assert_eq!(funnel["roi"], "10.5", "{funnel}");
    let before = snapshot(&suite, &ravi, &ada, &deal, &account, &campaign).await;

    // Every deal event and the conversion again, as new events.
    let consumers = "SELECT count(*) FROM inbox";
    let (deals_inbox, accounts_inbox, leads_inbox) = (
        suite.count("opportunities", consumers).await,
        suite.count("accounts", consumers).await,
        suite.count("leads", consumers).await,
    );
    let deal_events = suite.republish_everything("opportunities").await as i64;
    suite.republish_everything("leads").await;
    eventually(
        Duration::from_secs(30),
        "every consumer took the events again",
        || async {
            suite.count("accounts", consumers).await > accounts_inbox + deal_events
                && suite.count("leads", consumers).await >= leads_inbox + deal_events
                && suite.count("opportunities", consumers).await > deals_inbox
        },
    )
    .await;
    let after = snapshot(&suite, &ravi, &ada, &deal, &account, &campaign).await;
    assert_eq!(before, after, "a replay changes nothing");
}
