//! The demo data set: Northwind Industrial's accounts and contacts (scenario.md), written
//! through the services' own use cases so validation, dedupe and events apply. Fixed ids make
//! a second run a no-op.

use crm_accounts::{
    domain::{account::validate_new_account, contact::validate_new_contact},
    service::Accounts,
};
use crm_platform::{
    auth::{Caller, Role, TeamPath},
    config::Settings,
    db,
    outbox::Outbox,
};
use crm_proto::crm::accounts::v1::{
    AccountInput, BuyingRole, CompanySize, ContactInput, ImportantDate, ImportantDateKind,
};
use uuid::Uuid;

pub mod leads;

/// The demo team of each role: Ada (admin) at the top, Mei managing East, Ravi in East-1.
pub fn team_for(role: Role) -> &'static str {
    match role {
        Role::Admin => "/northwind",
        Role::Manager => "/northwind/east",
        Role::Rep => "/northwind/east/east-1",
    }
}

pub(crate) fn demo_user(role: Role) -> anyhow::Result<Caller> {
    Ok(Caller {
        user_id: user_id_for(role),
        role,
        team_path: TeamPath::parse(team_for(role)).map_err(anyhow::Error::msg)?,
        scopes: None,
    })
}

/// Stable demo user ids, so `crm dev-token --role rep` is the demo rep Ravi.
pub fn user_id_for(role: Role) -> Uuid {
    match role {
        Role::Admin => Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00ad),
        Role::Manager => Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_03e1),
        Role::Rep => Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0a71),
    }
}

struct DemoAccount {
    id: u128,
    name: &'static str,
    industry: &'static str,
    region: &'static str,
    size: CompanySize,
    website: &'static str,
    phone: &'static str,
    contacts: &'static [(u128, &'static str, &'static str, &'static str, BuyingRole)],
}

const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        id: 0xacc1,
        name: "Contoso Ltd",
        industry: "Manufacturing",
        region: "East",
        size: CompanySize::Large,
        website: "https://www.contoso.cn",
        phone: "+86 21 5555 0100",
        contacts: &[
            (
                0xc01,
                "Li Wei",
                "Head of Automation",
                "li.wei@contoso.cn",
                BuyingRole::Champion,
            ),
            (
                0xc02,
                "Zhang Min",
                "CFO",
                "zhang.min@contoso.cn",
                BuyingRole::EconomicBuyer,
            ),
        ],
    },
    DemoAccount {
        id: 0xacc2,
        name: "Fabrikam Industrial",
        industry: "Manufacturing",
        region: "East",
        size: CompanySize::Medium,
        website: "fabrikam.com",
        phone: "+86 512 5555 0200",
        contacts: &[(
            0xc03,
            "Chen Jie",
            "Plant Manager",
            "chen.jie@fabrikam.com",
            BuyingRole::DecisionMaker,
        )],
    },
    DemoAccount {
        id: 0xacc3,
        name: "Tailspin Logistics",
        industry: "Logistics",
        region: "West",
        size: CompanySize::Enterprise,
        website: "tailspin.example",
        phone: "+86 28 5555 0300",
        contacts: &[(
            0xc04,
            "Wang Fang",
            "COO",
            "wang.fang@tailspin.example",
            BuyingRole::EconomicBuyer,
        )],
    },
];

pub async fn load(settings: &Settings) -> anyhow::Result<()> {
    let url = settings.database_url(crm_accounts::NAME);
    db::ensure_database(&url).await?;
    let pool = db::connect(&url, 2).await?;
    db::migrate(&pool, crm_accounts::migrator).await?;
    // Events stay in the outbox until a running relay publishes them.
    let accounts = Accounts::new(
        pool.clone(),
        Outbox::new(),
        settings.default_calling_code.clone(),
    );
    let admin = demo_user(Role::Admin)?;
    let ravi = demo_user(Role::Rep)?;
    // The accounts service learns users' teams from their calls; the demo introduces them.
    let mut connection = pool.acquire().await?;
    for role in [Role::Manager, Role::Rep] {
        crm_accounts::store::remember_user(&mut connection, &demo_user(role)?).await?;
    }
    drop(connection);
    let calling_code = settings.default_calling_code.as_deref();
    for demo in ACCOUNTS {
        let input = AccountInput {
            name: demo.name.into(),
            industry: demo.industry.into(),
            region: demo.region.into(),
            size: demo.size as i32,
            website: demo.website.into(),
            phone: demo.phone.into(),
            tags: vec!["demo".into()],
            // East is Ravi's territory; the rest stays with the admin.
            owner_id: if demo.region == "East" {
                ravi.user_id.to_string()
            } else {
                String::new()
            },
            ..Default::default()
        };
        let new = validate_new_account(&input, calling_code)
            .map_err(|v| anyhow::anyhow!("demo account invalid: {v:?}"))?;
        let (account, _) = accounts
            .create_account(&admin, new, false, Some(Uuid::from_u128(demo.id)))
            .await
            .map_err(|e| anyhow::anyhow!("demo account {}: {e}", demo.name))?;
        for (id, name, title, email, role) in demo.contacts {
            let input = ContactInput {
                account_id: account.id.to_string(),
                full_name: (*name).into(),
                title: (*title).into(),
                email: (*email).into(),
                buying_role: *role as i32,
                important_dates: vec![ImportantDate {
                    kind: ImportantDateKind::ContractAnniversary as i32,
                    date: "2025-04-01".into(),
                    label: "framework agreement".into(),
                }],
                ..Default::default()
            };
            let new = validate_new_contact(&input, calling_code)
                .map_err(|v| anyhow::anyhow!("demo contact invalid: {v:?}"))?;
            accounts
                .create_contact(&admin, new, false, Some(Uuid::from_u128(*id)))
                .await
                .map_err(|e| anyhow::anyhow!("demo contact {name}: {e}"))?;
        }
    }
    pool.close().await;
    leads::load(settings).await?;
    println!(
        "demo data loaded: {} accounts with their contacts; reps, the East rule, the Spring Expo campaign and leads",
        ACCOUNTS.len()
    );
    Ok(())
}
