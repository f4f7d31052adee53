//! Leads of the demo: the scenario's reps on the roster (Ravi senior, Nora new), the
//! East-territory rule that routes East leads to East-1, the Spring Expo campaign, and leads
//! from the API, the campaign and a web form. Fixed ids; a second run changes nothing.

use chrono::{Duration, Utc};
use crm_leads::{
    domain::assignment::{AssignmentRule, RuleCriteria},
    service::{Leads, admin::campaign_row, capture::validate_lead_input},
    store::admin::RepRow,
};
use crm_platform::{
    auth::{Caller, Role, TeamPath},
    config::Settings,
    db,
    outbox::Outbox,
};
use crm_proto::crm::{common::v1::Money, leads::v1 as pb};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{demo_user, user_id_for};

const CAMPAIGN_ID: u128 = 0x0190_0000_0000_7000_8000_0000_00ca_0001;
pub const NORA: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0a72;
pub const WES: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0a73;

fn rep(id: Uuid, team: &str, name: &str, stage: &str, days_ago: i64) -> RepRow {
    RepRow {
        rep_id: id,
        team_path: team.to_owned(),
        display_name: name.to_owned(),
        stage: stage.to_owned(),
        started_on: (Utc::now() - Duration::days(days_ago)).date_naive(),
        capacity: 40,
        claim_cap: 15,
        active: true,
        open_pipeline: Decimal::ZERO,
    }
}

fn lead(
    first: &str,
    last: &str,
    email: &str,
    phone: &str,
    company: &str,
    title: &str,
    territory: &str,
) -> pb::LeadInput {
    pb::LeadInput {
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        phone: phone.into(),
        company: company.into(),
        title: title.into(),
        industry: "Manufacturing".into(),
        territory: territory.into(),
        ..Default::default()
    }
}

pub async fn load(settings: &Settings) -> anyhow::Result<()> {
    let url = settings.database_url(crm_leads::NAME);
    db::ensure_database(&url).await?;
    let pool = db::connect(&url, 2).await?;
    db::migrate(&pool, crm_leads::migrator).await?;
    let leads = Leads::new(
        pool.clone(),
        Outbox::new(),
        settings.default_calling_code.clone(),
    );
    let ada = demo_user(Role::Admin)?;
    let fail = |what: &str| {
        let what = what.to_owned();
        move |error: crm_leads::error::LeadsError| anyhow::anyhow!("demo {what}: {error}")
    };

    let ravi = user_id_for(Role::Rep);
    for row in [
        rep(ravi, "/northwind/east/east-1", "Ravi", "senior", 3 * 365),
        rep(
            Uuid::from_u128(NORA),
            "/northwind/east/east-1",
            "Nora",
            "new",
            25,
        ),
        rep(
            Uuid::from_u128(WES),
            "/northwind/west/west-1",
            "Wes",
            "established",
            400,
        ),
    ] {
        leads.put_rep(&ada, row).await.map_err(fail("rep"))?;
    }
    leads
        .put_rules(
            &ada,
            "/northwind",
            vec![AssignmentRule {
                id: Uuid::from_u128(CAMPAIGN_ID + 1),
                name: "East territory".into(),
                position: 0,
                criteria: RuleCriteria {
                    territories: vec!["east".into()],
                    ..Default::default()
                },
                reps: vec![ravi, Uuid::from_u128(NORA)],
            }],
        )
        .await
        .map_err(fail("assignment rule"))?;

    // Captures are not idempotent by content; the campaign marks that they were made.
    let mut connection = pool.acquire().await?;
    let done = crm_leads::store::admin::get_campaign(&mut connection, Uuid::from_u128(CAMPAIGN_ID))
        .await?
        .is_some();
    drop(connection);
    if done {
        pool.close().await;
        return Ok(());
    }
    let mut campaign = campaign_row(
        "Spring Expo",
        pb::SourceChannel::Campaign as i16,
        Some(&Money {
            currency_code: "CNY".into(),
            amount: "20000.00".into(),
        }),
        "2026-03-10",
        "2026-03-12",
    )
    .map_err(fail("campaign"))?;
    campaign.id = Uuid::from_u128(CAMPAIGN_ID);
    leads
        .create_campaign(&ada, campaign)
        .await
        .map_err(fail("campaign"))?;

    let code = settings.default_calling_code.as_deref();
    let campaign_id = Uuid::from_u128(CAMPAIGN_ID).to_string();
    let expo = [
        lead(
            "Wei",
            "Li",
            "li.wei@contoso.cn",
            "+86 138 0013 8000",
            "Contoso Ltd",
            "Head of Automation",
            "East",
        ),
        lead(
            "Jie",
            "Chen",
            "chen.jie@fabrikam.com",
            "+86 139 0000 1111",
            "Fabrikam Industrial",
            "Plant Manager",
            "East",
        ),
        lead(
            "Fang",
            "Wang",
            "wang.fang@tailspin.example",
            "+86 137 2222 3333",
            "Tailspin Logistics",
            "COO",
            "West",
        ),
        lead(
            "Min",
            "Zhou",
            "zhou.min@adventure-works.cn",
            "+86 136 4444 5555",
            "Adventure Works",
            "Engineer",
            "East",
        ),
    ];
    // Admin captures wait in the company pool; East ones are routed to East-1 on capture.
    for input in expo {
        let input = pb::LeadInput {
            campaign_id: campaign_id.clone(),
            source_channel: pb::SourceChannel::Campaign as i32,
            ..input
        };
        let capture = validate_lead_input(&input, code, "lead")
            .map_err(|v| anyhow::anyhow!("demo lead invalid: {v:?}"))?;
        leads
            .create_lead(&ada, capture)
            .await
            .map_err(fail("lead"))?;
    }
    // Ravi's own lead from a call.
    let ravi_caller = Caller {
        user_id: ravi,
        role: Role::Rep,
        team_path: TeamPath::parse("/northwind/east/east-1").map_err(anyhow::Error::msg)?,
        scopes: None,
    };
    let own = lead(
        "Hua",
        "Sun",
        "sun.hua@litware.cn",
        "+86 135 6666 7777",
        "Litware",
        "CTO",
        "East",
    );
    let capture = validate_lead_input(&own, code, "lead")
        .map_err(|v| anyhow::anyhow!("demo lead invalid: {v:?}"))?;
    leads
        .create_lead(&ravi_caller, capture)
        .await
        .map_err(fail("lead"))?;
    // A public form of the East team.
    let (_, key) = leads
        .create_web_form(&ada, "Contact us (East)", None, "/northwind/east", 30)
        .await
        .map_err(fail("web form"))?;
    let visitor = lead(
        "Lei",
        "Zhao",
        "zhao.lei@northwind-traders.cn",
        "",
        "Northwind Traders",
        "Buyer",
        "East",
    );
    leads
        .submit_web_form(&key, visitor)
        .await
        .map_err(fail("web form lead"))?;
    pool.close().await;
    Ok(())
}
