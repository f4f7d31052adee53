//! Accounts and contacts of the demo. East is Ravi's territory: he enters the East accounts
//! and their contacts himself; Ada enters the rest. Fixed ids make a retried create return
//! the first result. A create refused with ALREADY_EXISTS for its id (the record was entered
//! by someone else, as earlier demo versions did as Ada) counts as done when the member can
//! read the record under that id.

use crm_proto::crm::accounts::v1::{
    AccountInput, BuyingRole, ContactInput, CreateAccountRequest, CreateContactRequest,
    GetAccountRequest, GetContactRequest, ImportantDate, ImportantDateKind,
    account_service_client::AccountServiceClient,
};
use crm_proto::crm::common::v1::CompanySize;
use tonic::Code;
use uuid::Uuid;

use super::{ADA, Api, Member, RAVI, failed};

pub(super) struct DemoAccount {
    id: u128,
    name: &'static str,
    industry: &'static str,
    region: &'static str,
    size: CompanySize,
    website: &'static str,
    phone: &'static str,
    contacts: &'static [(u128, &'static str, &'static str, &'static str, BuyingRole)],
}

impl DemoAccount {
    /// Who enters (and so owns) the account and its contacts.
    fn owner(&self) -> Member {
        if self.region == "East" { RAVI } else { ADA }
    }
}

pub(super) const ACCOUNTS: &[DemoAccount] = &[
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

pub(super) async fn load(api: &Api) -> anyhow::Result<()> {
    let mut client = AccountServiceClient::new(api.channel());
    for demo in ACCOUNTS {
        let owner = demo.owner();
        let account_id = Uuid::from_u128(demo.id).to_string();
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
