use std::str::FromStr;

use crm_platform::time::to_timestamp;
use crm_proto::crm::{
    common::v1::Money as MoneyMessage,
    opportunities::v1::{Attitude, CloseOutcome, CommitteeMember, CorporateAmount},
};
use proptest::prelude::*;

use super::*;

fn money(currency: &str, amount: &str) -> MoneyMessage {
    MoneyMessage {
        currency_code: currency.into(),
        amount: amount.into(),
    }
}

fn deal(id: &str, status: OpportunityStatus) -> Opportunity {
    Opportunity {
        id: id.into(),
        name: format!("deal {id}"),
        status: status.into(),
        ..Default::default()
    }
}

fn open(id: &str, close: &str) -> Opportunity {
    Opportunity {
        expected_close_date: close.into(),
        ..deal(id, OpportunityStatus::Open)
    }
}

fn closed(id: &str, status: OpportunityStatus, closed_at_seconds: i64) -> Opportunity {
    Opportunity {
        outcome: Some(CloseOutcome {
            closed_at: Some(to_timestamp(
                chrono::DateTime::from_timestamp(closed_at_seconds, 0).unwrap(),
            )),
            ..Default::default()
        }),
        ..deal(id, status)
    }
}

/// `deal` with a corporate amount of `amount` in `currency`.
fn priced(deal: Opportunity, currency: &str, amount: &str) -> Opportunity {
    Opportunity {
        corporate_amount: Some(CorporateAmount {
            amount: Some(money(currency, amount)),
            rate: "1".into(),
            rate_date: "2026-11-02".into(),
        }),
        ..deal
    }
}

fn ids(deals: &[Opportunity]) -> Vec<&str> {
    deals.iter().map(|deal| deal.id.as_str()).collect()
}

fn contact(id: &str, name: &str, role: BuyingRole) -> Contact {
    Contact {
        id: id.into(),
        full_name: name.into(),
        buying_role: role.into(),
        ..Default::default()
    }
}

fn member(contact: &str, name: &str, role: BuyingRole, attitude: Attitude) -> CommitteeMember {
    CommitteeMember {
        contact_id: contact.into(),
        contact_name: name.into(),
        role: role.into(),
        attitude: attitude.into(),
        ..Default::default()
    }
}

fn place(deal: &Opportunity, role: BuyingRole, attitude: Attitude) -> DealCommitteeRole {
    DealCommitteeRole {
        opportunity_id: deal.id.clone(),
        opportunity_name: deal.name.clone(),
        opportunity_status: deal.status,
        role: role.into(),
        attitude: attitude.into(),
    }
}

#[test]
fn open_deals_are_listed_soonest_close_first_and_closed_ones_newest_close_first() {
    let lists = deal_lists(vec![
        open("o-undated", ""),
        closed("c-won-early", OpportunityStatus::Won, 1_000),
        open("o-march", "2027-03-01"),
        deal("archived", OpportunityStatus::Archived),
        closed("c-lost-late", OpportunityStatus::Lost, 3_000),
        open("o-january-b", "2027-01-30"),
        open("o-january-a", "2027-01-30"),
        closed("c-won-middle", OpportunityStatus::Won, 2_000),
        deal("unknown", OpportunityStatus::Unspecified),
    ]);

    // Same day: by name ("deal o-january-a" before "deal o-january-b"); undated last.
    assert_eq!(
        ids(&lists.open),
        ["o-january-a", "o-january-b", "o-march", "o-undated"]
    );
    assert_eq!(
        ids(&lists.closed),
        ["c-lost-late", "c-won-middle", "c-won-early"]
    );
    let all: Vec<&str> = lists.iter().map(|deal| deal.id.as_str()).collect();
    assert_eq!(
        all.len(),
        7,
        "archived and unknown statuses are in neither list"
    );
}

#[test]
fn closed_deals_closed_at_the_same_time_are_by_id_and_one_without_a_time_is_last() {
    let lists = deal_lists(vec![
        deal("no-outcome", OpportunityStatus::Won),
        closed("b", OpportunityStatus::Won, 5),
        closed("a", OpportunityStatus::Lost, 5),
    ]);
    assert_eq!(ids(&lists.closed), ["a", "b", "no-outcome"]);
}

#[test]
fn buying_roles_merge_each_contacts_own_role_with_their_places_on_committees() {
    let li = contact("li", "Li Wei", BuyingRole::Champion);
    let zhang = contact("zhang", "Zhang Min", BuyingRole::Unspecified);
    let chen = contact("chen", "Chen Jing", BuyingRole::EconomicBuyer);
    let nobody = contact("wu", "Wu Fang", BuyingRole::Unspecified);
    let mut line_3 = open("line-3", "2027-01-30");
    line_3.buying_committee = vec![
        member(
            "zhang",
            "Zhang M.",
            BuyingRole::DecisionMaker,
            Attitude::Supporter,
        ),
        // Not among the view's contacts (archived, or out of the caller's reach there).
        member("xu", "Xu Ming", BuyingRole::Blocker, Attitude::Opponent),
    ];
    let mut spares = closed("spares", OpportunityStatus::Won, 100);
    spares.buying_committee = vec![
        member("li", "Li Wei", BuyingRole::Champion, Attitude::Favourable),
        member(
            "zhang",
            "Zhang Min",
            BuyingRole::Influencer,
            Attitude::Neutral,
        ),
        member("xu", "Xu Ming", BuyingRole::User, Attitude::Sceptical),
    ];
    let lists = DealLists {
        open: vec![line_3.clone()],
        closed: vec![spares.clone()],
    };

    let roles = buying_roles(&[li, zhang, chen, nobody], &lists);

    assert_eq!(
        roles,
        [
            BuyingRoleView {
                contact_id: "li".into(),
                contact_name: "Li Wei".into(),
                buying_role: BuyingRole::Champion.into(),
                deal_roles: vec![place(&spares, BuyingRole::Champion, Attitude::Favourable)],
            },
            // The accounts service's name, not the one the committee last learnt.
            BuyingRoleView {
                contact_id: "zhang".into(),
                contact_name: "Zhang Min".into(),
                buying_role: BuyingRole::Unspecified.into(),
                deal_roles: vec![
                    place(&line_3, BuyingRole::DecisionMaker, Attitude::Supporter),
                    place(&spares, BuyingRole::Influencer, Attitude::Neutral),
                ],
            },
            // A role of their own and no committee place.
            BuyingRoleView {
                contact_id: "chen".into(),
                contact_name: "Chen Jing".into(),
                buying_role: BuyingRole::EconomicBuyer.into(),
                deal_roles: vec![],
            },
            // Wu has neither and is left out; Xu, on committees only, comes last.
            BuyingRoleView {
                contact_id: "xu".into(),
                contact_name: "Xu Ming".into(),
                buying_role: BuyingRole::Unspecified.into(),
                deal_roles: vec![
                    place(&line_3, BuyingRole::Blocker, Attitude::Opponent),
                    place(&spares, BuyingRole::User, Attitude::Sceptical),
                ],
            },
        ]
    );
}

#[test]
fn no_contacts_and_no_committees_make_no_buying_roles() {
    assert!(buying_roles(&[], &deal_lists(vec![open("a", "2027-01-01")])).is_empty());
}

#[test]
fn the_figures_add_up_corporate_amounts_in_the_corporate_currency_only() {
    let lists = deal_lists(vec![
        priced(open("o1", "2027-01-30"), "CNY", "1200000.00"),
        priced(open("o2", "2027-02-28"), "CNY", "350000.50"),
        // No rate for EUR: no corporate amount.
        open("o3", "2027-03-31"),
        // Converted into the corporate currency the organisation had before.
        priced(open("o4", "2027-04-30"), "EUR", "1000.00"),
        priced(closed("w1", OpportunityStatus::Won, 10), "CNY", "800000.00"),
        priced(closed("w2", OpportunityStatus::Won, 20), "CNY", "99.99"),
        closed("w3", OpportunityStatus::Won, 30),
        priced(closed("l1", OpportunityStatus::Lost, 40), "CNY", "5000.00"),
    ]);

    let figures = summary(&lists, Some(CurrencyCode::CNY));

    assert_eq!(
        figures,
        AccountSummary {
            corporate_currency: "CNY".into(),
            open_deals: 4,
            // 1,200,000.00 + 350,000.50
            open_amount: Some(money("CNY", "1550000.5")),
            open_deals_unpriced: 2,
            won_deals: 3,
            // 800,000.00 + 99.99; the lost deal's amount is in neither sum.
            won_amount: Some(money("CNY", "800099.99")),
            won_deals_unpriced: 1,
            lost_deals: 1,
            // 3 / 4
            win_rate: "0.7500".into(),
        }
    );
}

#[test]
fn without_a_corporate_currency_there_are_no_amounts_and_every_deal_is_unpriced() {
    let lists = deal_lists(vec![
        priced(open("o1", "2027-01-30"), "CNY", "1200000.00"),
        open("o2", "2027-01-30"),
    ]);

    let figures = summary(&lists, None);

    assert_eq!(
        figures,
        AccountSummary {
            corporate_currency: String::new(),
            open_deals: 2,
            open_amount: None,
            open_deals_unpriced: 2,
            won_deals: 0,
            won_amount: None,
            won_deals_unpriced: 0,
            lost_deals: 0,
            win_rate: String::new(),
        }
    );
}

#[test]
fn an_account_without_deals_has_zero_amounts_and_no_win_rate() {
    let figures = summary(&DealLists::default(), Some(CurrencyCode::CNY));
    assert_eq!(figures.open_amount, Some(money("CNY", "0")));
    assert_eq!(figures.won_amount, Some(money("CNY", "0")));
    assert_eq!(
        (figures.open_deals, figures.won_deals, figures.lost_deals),
        (0, 0, 0)
    );
    assert_eq!(figures.win_rate, "");
}

#[test]
fn the_win_rate_has_four_decimals_rounded_half_away_from_zero() {
    let rate = |won, lost| win_rate(won, lost).map(|rate| rate.to_string());
    assert_eq!(rate(0, 0), None);
    assert_eq!(rate(1, 0).as_deref(), Some("1.0000"));
    assert_eq!(rate(0, 3).as_deref(), Some("0.0000"));
    assert_eq!(rate(1, 1).as_deref(), Some("0.5000"));
    assert_eq!(rate(2, 1).as_deref(), Some("0.6667"));
    assert_eq!(rate(1, 2).as_deref(), Some("0.3333"));
    // 5 / 7 = 0.714285…
    assert_eq!(rate(5, 2).as_deref(), Some("0.7143"));
    // 1 / 20,000 = 0.00005 exactly: the midpoint goes up.
    assert_eq!(rate(1, 19_999).as_deref(), Some("0.0001"));
}

proptest! {
    #[test]
    fn the_win_rate_is_a_share_within_half_a_last_decimal_of_the_exact_one(
        won in 0u64..100_000,
        lost in 0u64..100_000,
    ) {
        prop_assume!(won + lost > 0);
        let rate = win_rate(won, lost).unwrap();
        prop_assert!(rate >= Decimal::ZERO && rate <= Decimal::ONE);
        prop_assert_eq!(rate.scale(), WIN_RATE_PLACES);
        let exact = Decimal::from(won) / Decimal::from(won + lost);
        prop_assert!((rate - exact).abs() <= Decimal::from_str("0.00005").unwrap());
    }

    #[test]
    fn every_deal_is_counted_once_priced_or_unpriced(
        amounts in proptest::collection::vec(proptest::option::of(0u32..1_000_000), 0..20),
    ) {
        let deals: Vec<Opportunity> = amounts
            .iter()
            .enumerate()
            .map(|(index, amount)| {
                let deal = open(&format!("d{index}"), "2027-01-01");
                match amount {
                    Some(amount) => priced(deal, "CNY", &amount.to_string()),
                    None => deal,
                }
            })
            .collect();
        let figures = summary(&deal_lists(deals), Some(CurrencyCode::CNY));
        let priced: Vec<u32> = amounts.iter().flatten().copied().collect();
        prop_assert_eq!(figures.open_deals, amounts.len() as u64);
        prop_assert_eq!(figures.open_deals_unpriced, (amounts.len() - priced.len()) as u64);
        let total: u64 = priced.iter().map(|amount| u64::from(*amount)).sum();
        prop_assert_eq!(figures.open_amount, Some(money("CNY", &total.to_string())));
    }
}
