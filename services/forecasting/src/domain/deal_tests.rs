use crm_proto::crm::{
    common::v1::Money as MoneyMessage,
    opportunities::v1::{
        CloseOutcome, CorporateAmount, OpportunityStatus, RevenueSplit, StageSummary,
    },
};

use super::*;

pub(crate) fn opportunity() -> Opportunity {
    Opportunity {
        id: Uuid::now_v7().to_string(),
        name: "Contoso — Line 3 automation".into(),
        account_id: Uuid::now_v7().to_string(),
        owner_id: Uuid::now_v7().to_string(),
        owner_team_path: "/northwind/east/east-1/".into(),
        pipeline_id: Uuid::now_v7().to_string(),
        stage: Some(StageSummary {
            stage_id: Uuid::now_v7().to_string(),
            name: "Propose".into(),
            position: 3,
            forecast_category: pb::ForecastCategory::BestCase as i32,
            default_probability: 60,
            ..Default::default()
        }),
        effective_probability: 60,
        amount: Some(MoneyMessage {
            currency_code: "USD".into(),
            amount: "100000".into(),
        }),
        corporate_amount: Some(CorporateAmount {
            amount: Some(MoneyMessage {
                currency_code: "CNY".into(),
                amount: "710000".into(),
            }),
            rate: "7.1".into(),
            rate_date: "2026-12-01".into(),
        }),
        expected_close_date: "2027-01-30".into(),
        splits: vec![RevenueSplit {
            user_id: Uuid::now_v7().to_string(),
            percent: "100".into(),
        }],
        status: OpportunityStatus::Open as i32,
        version: 3,
        ..Default::default()
    }
}

#[test]
fn a_deal_event_reads_into_the_forecasts_deal() {
    let event = opportunity();
    let deal = PipelineDeal::from_opportunity(&event).unwrap();
    assert_eq!(deal.id.to_string(), event.id);
    assert_eq!(deal.version, 3);
    assert_eq!(deal.category, ForecastCategory::BestCase);
    assert_eq!(deal.status, DealStatus::Open);
    assert_eq!(deal.effective_probability, 60);
    let shown = |money: Money| format!("{} {}", money.currency, money.amount);
    assert_eq!(shown(deal.amount), "USD 100000");
    assert_eq!(shown(deal.corporate_amount.unwrap()), "CNY 710000");
    assert_eq!(deal.owner_team_path.as_str(), "/northwind/east/east-1/");
    assert_eq!(deal.expected_close_date.to_string(), "2027-01-30");
    assert_eq!(deal.closed_on, None);
    assert_eq!(deal.splits.len(), 1);

    let won = Opportunity {
        status: OpportunityStatus::Won as i32,
        outcome: Some(CloseOutcome {
            closed_on: "2026-12-01".into(),
            ..Default::default()
        }),
        corporate_amount: None,
        ..event
    };
    let deal = PipelineDeal::from_opportunity(&won).unwrap();
    assert_eq!(
        (
            deal.status,
            deal.closed_on.unwrap().to_string(),
            deal.corporate_amount
        ),
        (DealStatus::Won, "2026-12-01".into(), None)
    );
}

#[test]
fn a_malformed_event_names_what_is_wrong() {
    let refused = |change: fn(&mut Opportunity)| {
        let mut event = opportunity();
        change(&mut event);
        PipelineDeal::from_opportunity(&event).unwrap_err()
    };
    assert!(refused(|event| event.stage = None).contains("opportunity.stage"));
    assert!(
        refused(|event| event.stage.as_mut().unwrap().forecast_category = 0)
            .contains("forecast_category")
    );
    assert!(refused(|event| event.effective_probability = 101).contains("effective_probability"));
    assert!(
        refused(|event| event.owner_team_path = "/North Wind/".into()).contains("owner_team_path")
    );
    assert!(
        refused(|event| event.expected_close_date = "30/01/2027".into())
            .contains("expected_close_date")
    );
    assert!(refused(|event| event.status = 0).contains("opportunity.status"));
    assert!(refused(|event| event.owner_id = "ravi".into()).contains("opportunity.owner_id"));
    assert!(refused(|event| event.splits[0].percent = "half".into()).contains("splits.percent"));
    assert!(
        refused(|event| event.amount.as_mut().unwrap().amount = "-1".into())
            .contains("opportunity.amount")
    );
}
