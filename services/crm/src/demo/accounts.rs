//! Accounts and contacts of the demo: each rep enters their own accounts and their contacts —
//! Ravi the established East customers, Nora (new) her first two prospects, Wes the West
//! ones — and Ada enters Tailspin, the key account head office keeps. Fixed ids make a retried
//! create return the first result. A create refused with ALREADY_EXISTS for its id (the record
//! was entered by someone else, as earlier demo versions did as Ada) counts as done when the
//! member can read the record under that id.

use crm_proto::crm::accounts::v1::{
    AccountInput, BuyingRole, ContactInput, CreateAccountRequest, CreateContactRequest,
    GetAccountRequest, GetContactRequest, ImportantDate, ImportantDateKind,
    account_service_client::AccountServiceClient,
};
use crm_proto::crm::common::v1::CompanySize;
use tonic::Code;
use uuid::Uuid;

use super::{ADA, Api, Member, NORA, RAVI, WES, failed};

#[derive(Debug, PartialEq)]
pub(super) struct DemoAccount {
    pub(super) id: u128,
    pub(super) name: &'static str,
    pub(super) industry: &'static str,
    pub(super) region: &'static str,
    pub(super) size: CompanySize,
    website: &'static str,
    phone: &'static str,
    /// Who enters (and so owns) the account and its contacts.
    pub(super) owner: Member,
    contacts: &'static [(u128, &'static str, &'static str, &'static str, BuyingRole)],
}

impl DemoAccount {
    /// The account's fixed id.
    pub(super) fn account_id(&self) -> Uuid {
        Uuid::from_u128(self.id)
    }
}

/// Contoso's contacts: Li Wei (the champion) and Zhang Min (the CFO, the economic buyer), the
/// buying committee of the scenario's deal.
pub(super) const LI_WEI: u128 = 0xc01;
pub(super) const ZHANG_MIN: u128 = 0xc02;
/// The scenario's customer.
pub(super) const CONTOSO: u128 = 0xacc1;

pub(super) const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        id: CONTOSO,
        name: "Contoso Ltd",
        industry: "Manufacturing",
        region: "East",
        size: CompanySize::Large,
        website: "https://www.contoso.cn",
        phone: "+86 21 5555 0100",
        owner: RAVI,
        contacts: &[
            (
                LI_WEI,
                "Li Wei",
                "Head of Automation",
                "li.wei@contoso.cn",
                BuyingRole::Champion,
            ),
            (
                ZHANG_MIN,
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
        owner: RAVI,
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
        owner: ADA,
        contacts: &[(
            0xc04,
            "Wang Fang",
            "COO",
            "wang.fang@tailspin.example",
            BuyingRole::EconomicBuyer,
        )],
    },
    DemoAccount {
        id: 0xacc4,
        name: "Proseware Chemicals",
        industry: "Chemicals",
        region: "East",
        size: CompanySize::Large,
        website: "proseware.cn",
        phone: "+86 25 5555 0400",
        owner: RAVI,
        contacts: &[(
            0xc05,
            "Liu Yang",
            "Procurement Director",
            "liu.yang@proseware.cn",
            BuyingRole::DecisionMaker,
        )],
    },
    DemoAccount {
        id: 0xacc5,
        name: "Wingtip Foods",
        industry: "Food & Beverage",
        region: "East",
        size: CompanySize::Medium,
        website: "wingtipfoods.cn",
        phone: "+86 571 5555 0500",
        owner: RAVI,
        contacts: &[(
            0xc06,
            "Huang Lei",
            "Operations Director",
            "huang.lei@wingtipfoods.cn",
            BuyingRole::DecisionMaker,
        )],
    },
    DemoAccount {
        id: 0xacc6,
        name: "Lucerne Pharmaceuticals",
        industry: "Pharmaceuticals",
        region: "East",
        size: CompanySize::Enterprise,
        website: "lucernepharma.cn",
        phone: "+86 21 5555 0600",
        owner: RAVI,
        contacts: &[(
            0xc07,
            "Zhao Xin",
            "VP Manufacturing",
            "zhao.xin@lucernepharma.cn",
            BuyingRole::EconomicBuyer,
        )],
    },
    DemoAccount {
        id: 0xacc7,
        name: "Coho Packaging",
        industry: "Packaging",
        region: "East",
        size: CompanySize::Small,
        website: "cohopackaging.cn",
        phone: "+86 574 5555 0700",
        owner: NORA,
        contacts: &[(
            0xc08,
            "Wu Tao",
            "General Manager",
            "wu.tao@cohopackaging.cn",
            BuyingRole::DecisionMaker,
        )],
    },
    DemoAccount {
        id: 0xacc8,
        name: "A. Datum Components",
        industry: "Electronics",
        region: "East",
        size: CompanySize::Medium,
        website: "adatum.de",
        phone: "+86 512 5555 0800",
        owner: NORA,
        contacts: &[(
            0xc09,
            "Klaus Becker",
            "Plant Director",
            "klaus.becker@adatum.de",
            BuyingRole::DecisionMaker,
        )],
    },
    DemoAccount {
        id: 0xacc9,
        name: "Relecloud Automotive",
        industry: "Automotive",
        region: "West",
        size: CompanySize::Large,
        website: "relecloud.com",
        phone: "+86 23 5555 0900",
        owner: WES,
        contacts: &[(
            0xc0a,
            "Emily Carter",
            "Purchasing Manager",
            "emily.carter@relecloud.com",
            BuyingRole::Influencer,
        )],
    },
    DemoAccount {
        id: 0xacca,
        name: "Woodgrove Energy",
        industry: "Energy",
        region: "West",
        size: CompanySize::Enterprise,
        website: "woodgrove-energy.cn",
        phone: "+86 29 5555 1000",
        owner: WES,
        contacts: &[(
            0xc0b,
            "Ma Jun",
            "Chief Engineer",
            "ma.jun@woodgrove-energy.cn",
            BuyingRole::TechnicalEvaluator,
        )],
    },
    DemoAccount {
        id: 0xaccb,
        name: "Blue Yonder Metals",
        industry: "Metals",
        region: "West",
        size: CompanySize::Medium,
        website: "blueyonder-metals.cn",
        phone: "+86 871 5555 1100",
        owner: WES,
        contacts: &[(
            0xc0c,
            "Xu Ming",
            "Plant Manager",
            "xu.ming@blueyonder-metals.cn",
            BuyingRole::DecisionMaker,
        )],
    },
    DemoAccount {
        id: 0xaccc,
        name: "Southridge Water",
        industry: "Utilities",
        region: "West",
        size: CompanySize::Medium,
        website: "southridge-water.cn",
        phone: "+86 28 5555 1200",
        owner: WES,
        contacts: &[(
            0xc0d,
            "He Ping",
            "Head of Operations",
            "he.ping@southridge-water.cn",
            BuyingRole::EconomicBuyer,
        )],
    },
    DemoAccount {
        id: 0xaccd,
        name: "Margie's Textiles",
        industry: "Textiles",
        region: "West",
        size: CompanySize::Small,
        website: "margiestextiles.cn",
        phone: "+86 851 5555 1300",
        owner: WES,
        contacts: &[(
            0xc0e,
            "Lin Na",
            "Owner",
            "lin.na@margiestextiles.cn",
            BuyingRole::DecisionMaker,
        )],
    },
];

pub(super) async fn load(api: &Api) -> anyhow::Result<()> {
    let mut client = AccountServiceClient::new(api.channel());
    for demo in ACCOUNTS {
        let owner = demo.owner;
        let account_id = demo.account_id().to_string();
        let account = AccountInput {
            name: demo.name.into(),
            industry: demo.industry.into(),
            region: demo.region.into(),
            size: demo.size as i32,
            website: demo.website.into(),
            phone: demo.phone.into(),
            tags: vec!["demo".into()],
            ..Default::default()
        };
        let created = client
            .create_account(api.as_member(
                &owner,
                CreateAccountRequest {
                    account: Some(account),
                    account_id: account_id.clone(),
                    ..Default::default()
                },
            ))
            .await;
        if let Err(status) = created {
            let exists = status.code() == Code::AlreadyExists
                && client
                    .get_account(api.as_member(
                        &owner,
                        GetAccountRequest {
                            account_id: account_id.clone(),
                        },
                    ))
                    .await
                    .is_ok();
            if !exists {
                return Err(failed(format!("account {}", demo.name))(status));
            }
        }
        for (id, name, title, email, role) in demo.contacts {
            let contact = ContactInput {
                account_id: account_id.clone(),
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
            let contact_id = Uuid::from_u128(*id).to_string();
            let created = client
                .create_contact(api.as_member(
                    &owner,
                    CreateContactRequest {
                        contact: Some(contact),
                        contact_id: contact_id.clone(),
                        ..Default::default()
                    },
                ))
                .await;
            if let Err(status) = created {
                let exists = status.code() == Code::AlreadyExists
                    && client
                        .get_contact(api.as_member(&owner, GetContactRequest { contact_id }))
                        .await
                        .is_ok();
                if !exists {
                    return Err(failed(format!("contact {name}"))(status));
                }
            }
        }
    }
    Ok(())
}
