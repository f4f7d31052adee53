//! Tiering (A3): trailing-12-month won revenue from the opportunities service's deal events,
//! tiers from the thresholds, a manager's override, the re-evaluation job, merges.

mod support;

use crm_proto::crm::{
    accounts::v1::{self as pb, AccountTier},
    common::v1::Money,
    opportunities::v1::{
        OpportunityAmountChanged, OpportunityArchived, OpportunityReopened,
        OpportunityStageChanged, OpportunityStatus, OpportunityWon,
    },
};
use crm_test_support::{authorized, user};
use support::{Tiers, cny, days_ago, deal, manager, next, rep, tier};
use tonic::Code;
use tonic_types::StatusExt;
use uuid::Uuid;

fn won(opportunity: crm_proto::crm::opportunities::v1::Opportunity) -> OpportunityWon {
    OpportunityWon {
        opportunity: Some(opportunity),
        ..Default::default()
    }
}

#[tokio::test]
async fn won_deals_raise_the_tier_exactly_at_the_thresholds() {
    let tiers = Tiers::start().await;
    // A from 1,000,000 CNY, B from 250,000 CNY.
    tiers
        .set_thresholds(&tiers.admin, "1000000", "250000", 0)
        .await
        .unwrap();
    let account = tiers.create_account(&rep(), "Contoso").await;
    assert_eq!(tier(&account), AccountTier::C);
    assert_eq!(account.computed_tier, AccountTier::C as i32);
    assert_eq!(account.trailing_won_revenue, Some(cny("0")));

    // 249,999.99: a cent short of B.
    let first = deal(
        &account.id,
        OpportunityStatus::Won,
        Some(cny("249999.99")),
        Some(days_ago(0)),
        3,
    );
    tiers.publish(&won(first)).await;
    let below = tiers.wait_for_revenue(&account.id, "249999.99").await;
    assert_eq!(tier(&below), AccountTier::C);
    assert_eq!(below.version, 1, "new figures, same tier: no new version");

    // The cent: 250,000.00 is B.
    let second = deal(
        &account.id,
        OpportunityStatus::Won,
        Some(cny("0.01")),
        Some(days_ago(30)),
        2,
    );
    tiers.publish(&won(second)).await;
    let at_b = tiers.wait_for_revenue(&account.id, "250000").await;
    assert_eq!(tier(&at_b), AccountTier::B);
    assert_eq!(at_b.version, 2);

    // Not counted: a win 365 days ago (aged out), one in another currency than the
    // thresholds', one without a corporate amount.
    for (amount, closed) in [
        (Some(cny("600000")), 365),
        (
            Some(Money {
                currency_code: "USD".into(),
                amount: "900000".into(),
            }),
            1,
        ),
        (None, 1),
    ] {
        let uncounted = deal(
            &account.id,
            OpportunityStatus::Won,
            amount,
            Some(days_ago(closed)),
            1,
        );
        tiers.publish(&won(uncounted)).await;
    }
    // 750,000 closed 364 days ago, the window's first day: 1,000,000.00 is A.
    let third = deal(
        &account.id,
        OpportunityStatus::Won,
        Some(cny("750000")),
        Some(days_ago(364)),
        1,
    );
    tiers.publish(&won(third)).await;
    let at_a = tiers.wait_for_revenue(&account.id, "1000000").await;
    assert_eq!(tier(&at_a), AccountTier::A);
    assert_eq!(at_a.version, 3);

    let changes = tiers.tier_changes(&account.id).await;
    let seen: Vec<(i32, i32, &str, u64)> = changes
        .iter()
        .map(|change| {
            let account = change.account.as_ref().unwrap();
            (
                change.previous_tier,
                account.tier,
                change.reason.as_str(),
                account.version,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                AccountTier::C as i32,
                AccountTier::B as i32,
                "revenue_changed",
                2
            ),
            (
                AccountTier::B as i32,
                AccountTier::A as i32,
                "revenue_changed",
                3
            ),
        ]
    );
}

#[tokio::test]
async fn redelivered_and_overtaken_deal_events_change_nothing() {
    let tiers = Tiers::start().await;
    tiers
        .set_thresholds(&tiers.admin, "1000000", "250000", 0)
        .await
        .unwrap();
    let account = tiers.create_account(&rep(), "Fabrikam").await;
    let deal_v5 = deal(
        &account.id,
        OpportunityStatus::Won,
        Some(cny("300000")),
        Some(days_ago(2)),
        5,
    );
    // One event delivered twice (a new message id defeats the broker's dedupe).
    let event_id = Uuid::now_v7();
    for copy in ["copy-1", "copy-2"] {
        tiers
            .app
            .publish_event_as("accounts", &won(deal_v5.clone()), event_id, copy)
            .await;
    }
    let at_b = tiers.wait_for_revenue(&account.id, "300000").await;
    assert_eq!(tier(&at_b), AccountTier::B);

    // Another event at the same version with other figures, and an older version arriving
    // late (the deal while it was open): neither is newer than what is kept.
    let mut same_version = deal_v5.clone();
    same_version.corporate_amount.as_mut().unwrap().amount = Some(cny("2000000"));
    tiers
        .publish(&OpportunityAmountChanged {
            opportunity: Some(same_version),
            ..Default::default()
        })
        .await;
    let mut older = deal_v5.clone();
    older.version = 4;
    older.status = OpportunityStatus::Open as i32;
    older.outcome = None;
    tiers
        .publish(&OpportunityStageChanged {
            opportunity: Some(older),
            ..Default::default()
        })
        .await;
    tiers.settle().await;

    let after = tiers.get(&account.id).await;
    assert_eq!(after.trailing_won_revenue, Some(cny("300000")));
    assert_eq!(tier(&after), AccountTier::B);
    assert_eq!(after.version, at_b.version);
    let kept = format!(
        "SELECT count(*) FROM account_deals WHERE opportunity_id = '{}' AND version = 5 AND status = 'won'",
        deal_v5.id
    );
    assert_eq!(tiers.count(&kept).await, 1);
    assert_eq!(tiers.tier_changes(&account.id).await.len(), 1);
    assert_eq!(
        tiers
            .count(&format!(
                "SELECT count(*) FROM inbox WHERE consumer = 'accounts-opportunity-deals' AND event_id = '{event_id}'"
            ))
            .await,
        1
    );
}

#[tokio::test]
async fn a_reopened_or_archived_deal_takes_its_revenue_away() {
    let tiers = Tiers::start().await;
    tiers
        .set_thresholds(&tiers.admin, "1000000", "250000", 0)
        .await
        .unwrap();
    let account = tiers.create_account(&rep(), "Northwind Traders").await;
    let big = deal(
        &account.id,
        OpportunityStatus::Won,
        Some(cny("200000")),
        Some(days_ago(10)),
        4,
    );
    let small = deal(
        &account.id,
        OpportunityStatus::Won,
        Some(cny("100000")),
        Some(days_ago(20)),
        2,
    );
    tiers.publish(&won(big.clone())).await;
    tiers.publish(&won(small.clone())).await;
    // 200,000 + 100,000 = 300,000: B.
    assert_eq!(
        tier(&tiers.wait_for_revenue(&account.id, "300000").await),
        AccountTier::B
    );

    // Reopened: open again, its 200,000 no longer counts: 100,000 is C.
    let reopened = next(&big, |deal| {
        deal.status = OpportunityStatus::Open as i32;
        deal.outcome = None;
    });
    tiers
        .publish(&OpportunityReopened {
            opportunity: Some(reopened.clone()),
            previous_status: OpportunityStatus::Won as i32,
            reason: "customer asked for a new quote".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(
        tier(&tiers.wait_for_revenue(&account.id, "100000").await),
        AccountTier::C
    );

    // Won again (B), then the other deal archived (entered by mistake): 200,000 is C.
    let won_again = next(&reopened, |deal| {
        deal.status = OpportunityStatus::Won as i32;
        deal.outcome = big.outcome.clone();
    });
    tiers.publish(&won(won_again)).await;
    assert_eq!(
        tier(&tiers.wait_for_revenue(&account.id, "300000").await),
        AccountTier::B
    );
    let archived = next(&small, |deal| {
        deal.status = OpportunityStatus::Archived as i32;
    });
    tiers
        .publish(&OpportunityArchived {
            opportunity: Some(archived),
            previous_status: OpportunityStatus::Won as i32,
            ..Default::default()
        })
        .await;
    assert_eq!(
        tier(&tiers.wait_for_revenue(&account.id, "200000").await),
        AccountTier::C
    );
    let previous: Vec<i32> = tiers
        .tier_changes(&account.id)
        .await
        .iter()
        .map(|change| change.previous_tier)
        .collect();
    assert_eq!(
        previous,
        [
            AccountTier::C,
            AccountTier::B,
            AccountTier::C,
            AccountTier::B
        ]
        .map(|t| t as i32)
    );
}

#[tokio::test]
async fn an_override_wins_until_it_is_cleared() {
    let tiers = Tiers::start().await;
    tiers
        .set_thresholds(&tiers.admin, "1000000", "250000", 0)
        .await
        .unwrap();
    let account = tiers.create_account(&rep(), "Tailspin Toys").await;
    let mei = manager();

    let overridden = tiers
        .set_tier(&mei, &account.id, AccountTier::A)
        .await
        .unwrap();
    assert_eq!(tier(&overridden), AccountTier::A);
    assert_eq!(overridden.tier_override, AccountTier::A as i32);
    assert_eq!(overridden.computed_tier, AccountTier::C as i32);
    assert_eq!(overridden.version, 2);

    // Revenue moves the computed tier, not the account's.
    let win = deal(
        &account.id,
        OpportunityStatus::Won,
        Some(cny("300000")),
        Some(days_ago(1)),
        1,
    );
    tiers.publish(&won(win)).await;
    let still_a = tiers.wait_for_revenue(&account.id, "300000").await;
    assert_eq!(still_a.computed_tier, AccountTier::B as i32);
    assert_eq!(tier(&still_a), AccountTier::A);
    assert_eq!(still_a.version, 2);

    // Cleared: back to the computed tier.
    let cleared = tiers
        .set_tier(&mei, &account.id, AccountTier::Unspecified)
        .await
        .unwrap();
    assert_eq!(tier(&cleared), AccountTier::B);
    assert_eq!(cleared.tier_override, AccountTier::Unspecified as i32);

    let changes = tiers.tier_changes(&account.id).await;
    let seen: Vec<(i32, i32, &str)> = changes
        .iter()
        .map(|change| {
            (
                change.previous_tier,
                change.account.as_ref().unwrap().tier,
                change.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (AccountTier::C as i32, AccountTier::A as i32, "override_set"),
            (
                AccountTier::A as i32,
                AccountTier::B as i32,
                "override_cleared"
            ),
        ]
    );

    // An override that is the computed tier changes no tier: an update, not a tier change.
    let same = tiers
        .set_tier(&mei, &account.id, AccountTier::B)
        .await
        .unwrap();
    assert_eq!(same.version, cleared.version + 1);
    assert_eq!(tiers.tier_changes(&account.id).await.len(), 2);
    let updates = tiers.outbox::<pb::AccountUpdated>(&account.id).await;
    assert_eq!(
        updates.last().unwrap().changed_fields,
        vec!["tier_override"]
    );
}

#[tokio::test]
async fn only_managers_and_admins_set_a_tier_and_only_admins_the_thresholds() {
    let tiers = Tiers::start().await;
    let ravi = rep();
    let account = tiers.create_account(&ravi, "Wide World Importers").await;
    let refused = tiers
        .set_tier(&ravi, &account.id, AccountTier::A)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let west = user("manager", "/northwind/west/");
    let refused = tiers
        .set_tier(&west, &account.id, AccountTier::A)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound, "out of reach looks absent");
    let set = tiers
        .set_tier(&tiers.admin, &account.id, AccountTier::B)
        .await
        .unwrap();
    assert_eq!(tier(&set), AccountTier::B);

    for caller in [&ravi, &manager()] {
        let refused = tiers
            .set_thresholds(caller, "1000000", "250000", 0)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
    let read = |caller: &crm_platform::auth::Caller| {
        let (mut client, token) = (tiers.client.clone(), tiers.app.token(caller));
        async move {
            client
                .get_tier_settings(authorized(pb::GetTierSettingsRequest {}, &token))
                .await
                .unwrap()
                .into_inner()
                .settings
                .unwrap()
        }
    };
    let unset = read(&ravi).await;
    assert_eq!((unset.version, unset.a_threshold), (0, None));

    let settings = tiers
        .set_thresholds(&tiers.admin, "1000000", "250000", 0)
        .await
        .unwrap();
    assert_eq!(settings.version, 1);
    assert_eq!(
        read(&ravi).await,
        settings,
        "every role reads the thresholds"
    );
    let stale = tiers
        .set_thresholds(&tiers.admin, "2000000", "500000", 5)
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let inverted = tiers
        .set_thresholds(&tiers.admin, "100000", "250000", 0)
        .await
        .unwrap_err();
    assert_eq!(inverted.code(), Code::FailedPrecondition);
    assert_eq!(
        inverted.get_error_details().error_info().unwrap().reason,
        "INCONSISTENT_FIELDS"
    );
    let negative = tiers
        .set_thresholds(&tiers.admin, "100000", "-1", 0)
        .await
        .unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    let mixed = tiers
        .client
        .clone()
        .update_tier_settings(authorized(
            pb::UpdateTierSettingsRequest {
                a_threshold: Some(cny("1000000")),
                b_threshold: Some(Money {
                    currency_code: "USD".into(),
                    amount: "250000".into(),
                }),
                expected_version: 0,
            },
            &tiers.app.token(&tiers.admin),
        ))
        .await
        .unwrap_err();
    assert_eq!(mixed.code(), Code::FailedPrecondition);
    assert_eq!(
        read(&ravi).await,
        settings,
        "refused changes change nothing"
    );
}

#[tokio::test]
async fn a_key_account_keeps_its_plan() {
    let tiers = Tiers::start().await;
    let ravi = rep();
    let account = tiers.create_account(&ravi, "Litware").await;
    let plan = "Expand to the Suzhou plant in Q2.\nQuarterly business review with the CFO.";
    let updated = tiers
        .client
        .clone()
        .update_account(authorized(
            pb::UpdateAccountRequest {
                account_id: account.id.clone(),
                patch: Some(pb::AccountPatch {
                    key_account: Some(true),
                    account_plan: Some(plan.into()),
                    ..Default::default()
                }),
                expected_version: 1,
            },
            &tiers.app.token(&ravi),
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert!(updated.key_account);
    assert_eq!(updated.account_plan, plan);
    let events = tiers.outbox::<pb::AccountUpdated>(&account.id).await;
    assert_eq!(
        events[0].changed_fields,
        vec!["key_account", "account_plan"]
    );

    let too_long = tiers
        .client
        .clone()
        .update_account(authorized(
            pb::UpdateAccountRequest {
                account_id: account.id.clone(),
                patch: Some(pb::AccountPatch {
                    account_plan: Some("x".repeat(20_001)),
                    ..Default::default()
                }),
                expected_version: 0,
            },
            &tiers.app.token(&ravi),
        ))
        .await
        .unwrap_err();
    assert_eq!(too_long.code(), Code::InvalidArgument);
    assert_eq!(
        too_long
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "patch.account_plan"
    );
}

#[tokio::test]
async fn a_merge_counts_the_duplicates_wins_for_the_survivor() {
    let tiers = Tiers::start().await;
    tiers
        .set_thresholds(&tiers.admin, "1000000", "250000", 0)
        .await
        .unwrap();
    let ravi = rep();
    let survivor = tiers.create_account(&ravi, "Adventure Works").await;
    let duplicate = tiers.create_account(&ravi, "Adventure Works Cycles").await;
    let win = deal(
        &duplicate.id,
        OpportunityStatus::Won,
        Some(cny("300000")),
        Some(days_ago(3)),
        1,
    );
    tiers.publish(&won(win.clone())).await;
    tiers.wait_for_revenue(&duplicate.id, "300000").await;

    let merged = tiers
        .client
        .clone()
        .merge_accounts(authorized(
            pb::MergeAccountsRequest {
                survivor_id: survivor.id.clone(),
                duplicate_id: duplicate.id.clone(),
            },
            &tiers.app.token(&ravi),
        ))
        .await
        .unwrap()
        .into_inner()
        .survivor
        .unwrap();
    assert_eq!(merged.trailing_won_revenue, Some(cny("300000")));
    assert_eq!(tier(&merged), AccountTier::B);
    // Merged (version 2), then its tier changed (version 3).
    assert_eq!(merged.version, 3);
    let change = tiers.tier_changes(&survivor.id).await.remove(0);
    assert_eq!(change.previous_tier, AccountTier::C as i32);
    assert_eq!(change.reason, "accounts_merged");

    // A later event may still name the duplicate: the deal counts for the survivor.
    let larger = next(&win, |deal| {
        deal.corporate_amount.as_mut().unwrap().amount = Some(cny("1200000"));
    });
    tiers
        .publish(&OpportunityAmountChanged {
            opportunity: Some(larger),
            ..Default::default()
        })
        .await;
    assert_eq!(
        tier(&tiers.wait_for_revenue(&survivor.id, "1200000").await),
        AccountTier::A
    );
}

#[tokio::test]
async fn the_reevaluation_job_applies_new_thresholds_and_ages_wins_out() {
    let tiers = Tiers::start_with(&[("CRM_ACCOUNTS_TIER_REEVALUATION_INTERVAL", "300ms")]).await;
    // An account from before any thresholds has no tier.
    let account = tiers.create_account(&rep(), "Proseware").await;
    assert_eq!(tier(&account), AccountTier::Unspecified);
    assert_eq!(account.trailing_won_revenue, None);
    // Its win, on the last day of the window, is kept meanwhile.
    let win = deal(
        &account.id,
        OpportunityStatus::Won,
        Some(cny("300000")),
        Some(days_ago(364)),
        1,
    );
    tiers.publish(&won(win)).await;
    tiers.settle().await;

    // Thresholds set: the job evaluates every account. 300,000 is B.
    tiers
        .set_thresholds(&tiers.admin, "1000000", "250000", 0)
        .await
        .unwrap();
    let at_b = tiers.wait_for_tier(&account.id, AccountTier::B).await;
    assert_eq!(at_b.trailing_won_revenue, Some(cny("300000")));
    // New thresholds: 300,000 is A.
    tiers
        .set_thresholds(&tiers.admin, "300000", "100000", 1)
        .await
        .unwrap();
    tiers.wait_for_tier(&account.id, AccountTier::A).await;

    // A day passes (moved in the database: the win and the last evaluation a day earlier).
    // The win is 365 days old now and leaves the window: 0 is C.
    tiers
        .execute("UPDATE account_deals SET closed_on = closed_on - 1")
        .await;
    tiers
        .execute("UPDATE accounts SET tier_window_start = tier_window_start - 1")
        .await;
    let aged = tiers.wait_for_tier(&account.id, AccountTier::C).await;
    assert_eq!(aged.trailing_won_revenue, Some(cny("0")));

    let seen: Vec<(i32, String)> = tiers
        .tier_changes(&account.id)
        .await
        .into_iter()
        .map(|change| (change.previous_tier, change.reason))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                AccountTier::Unspecified as i32,
                "thresholds_changed".to_owned()
            ),
            (AccountTier::B as i32, "thresholds_changed".to_owned()),
            (AccountTier::A as i32, "aged_out".to_owned()),
        ]
    );
}
