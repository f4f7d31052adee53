//! SQL of the statistical forecast (F6): the stages each deal reached (`deal_stage_visits`),
//! the stages as deal events describe them (`pipeline_stages`), and the closed and open deals
//! the win rates learn from and value. The bookings history is read from the pipeline's sums
//! (`store::pipeline::sums`), which already hold the won deals by month.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{column, push_scope};
use crate::domain::{
    scope::Scope,
    statistics::{
        stages::{PipelineStage, StageKind, StageVisit, VisitsToRecord},
        win_rates::{ClosedDeal, OpenDeal},
    },
};

/// Records that each deal reached its stage at the visit's version (keeping the earliest
/// version seen) and, where the event described the stage, keeps that description unless one of
/// a later change is held — one statement for any number of visits, as the deal consumer writes
/// them on every batch of events.
pub async fn record_visits(
    connection: &mut PgConnection,
    visits: &[StageVisit],
) -> sqlx::Result<()> {
    let recorded = VisitsToRecord::of(visits);
    if recorded.visits.is_empty() {
        return Ok(());
    }
    let (visits, described) = (&recorded.visits, &recorded.stages);
    sqlx::query(
        "WITH visit AS (INSERT INTO deal_stage_visits AS visits (deal_id, stage_id, \
         first_seen_version) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[]) \
         ON CONFLICT (deal_id, stage_id) DO UPDATE \
         SET first_seen_version = EXCLUDED.first_seen_version \
         WHERE visits.first_seen_version > EXCLUDED.first_seen_version RETURNING 1) \
         INSERT INTO pipeline_stages AS stages (stage_id, pipeline_id, name, position, kind, \
         default_probability, described_at) SELECT * FROM unnest($4::uuid[], $5::uuid[], \
         $6::text[], $7::integer[], $8::smallint[], $9::smallint[], $10::timestamptz[]) \
         ON CONFLICT (stage_id) DO UPDATE SET pipeline_id = EXCLUDED.pipeline_id, \
         name = EXCLUDED.name, position = EXCLUDED.position, kind = EXCLUDED.kind, \
         default_probability = EXCLUDED.default_probability, \
         described_at = EXCLUDED.described_at \
         WHERE stages.described_at < EXCLUDED.described_at",
    )
    .bind(column(visits, |visit| visit.0))
    .bind(column(visits, |visit| visit.1))
    .bind(column(visits, |visit| visit.2))
    .bind(column(described, |(stage, _)| stage.stage_id))
    .bind(column(described, |(stage, _)| stage.pipeline_id))
    .bind(column(described, |(stage, _)| stage.name.as_str()))
    .bind(column(described, |(stage, _)| {
        i32::try_from(stage.position).unwrap_or(i32::MAX)
    }))
    .bind(column(described, |(stage, _)| stage.kind as i16))
    .bind(column(described, |(stage, _)| {
        i16::from(stage.default_probability)
    }))
    .bind(column(described, |(_, at)| *at))
    .execute(connection)
    .await?;
    Ok(())
}

/// ` AND d.pipeline_id = …` when one pipeline is asked for.
fn push_pipeline(query: &mut QueryBuilder<Postgres>, pipeline_id: Option<Uuid>) {
    if let Some(pipeline_id) = pipeline_id {
        query.push(" AND d.pipeline_id = ").push_bind(pipeline_id);
    }
}

/// The scope's won and lost deals, each with every stage it reached — its visits and the
/// stage it closed in.
pub async fn closed_deals(
    connection: &mut PgConnection,
    scope: &Scope,
    pipeline_id: Option<Uuid>,
) -> sqlx::Result<Vec<ClosedDeal>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT d.status = 'won' AS won, d.stage_id, \
         coalesce(array_agg(v.stage_id) FILTER (WHERE v.stage_id IS NOT NULL), '{}') AS visited \
         FROM deals d LEFT JOIN deal_stage_visits v ON v.deal_id = d.id \
         WHERE d.status IN ('won', 'lost')",
    );
    push_scope(&mut query, scope, "d.");
    push_pipeline(&mut query, pipeline_id);
    query.push(" GROUP BY d.id");
    let rows: Vec<(bool, Uuid, Vec<Uuid>)> = query.build_query_as().fetch_all(connection).await?;
    Ok(rows
        .into_iter()
        .map(|(won, stage_id, visited)| ClosedDeal {
            stages_reached: visited
                .into_iter()
                .chain([stage_id])
                .collect::<BTreeSet<_>>(),
            won,
        })
        .collect())
}

/// The scope's open deals.
pub struct OpenDeals {
    /// Those with an amount in `currency`.
    pub converted: Vec<OpenDeal>,
    /// Those without (no corporate amount, or one in a former corporate currency).
    pub unconverted: u64,
}

pub async fn open_deals(
    connection: &mut PgConnection,
    scope: &Scope,
    pipeline_id: Option<Uuid>,
    currency: &str,
) -> sqlx::Result<OpenDeals> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT d.stage_id, d.effective_probability, \
         CASE WHEN d.corporate_currency = ",
    );
    query
        .push_bind(currency.to_owned())
        .push(" THEN d.corporate_amount END FROM deals d WHERE d.status = 'open'");
    push_scope(&mut query, scope, "d.");
    push_pipeline(&mut query, pipeline_id);
    let rows: Vec<(Uuid, i16, Option<Decimal>)> =
        query.build_query_as().fetch_all(connection).await?;
    let mut open = OpenDeals {
        converted: Vec::new(),
        unconverted: 0,
    };
    for (stage_id, probability, amount) in rows {
        let Some(amount) = amount else {
            open.unconverted += 1;
            continue;
        };
        open.converted.push(OpenDeal {
            stage_id,
            amount,
            nominal_probability: u8::try_from(probability)
                .map_err(|error| sqlx::Error::Decode(error.into()))?,
        });
    }
    Ok(open)
}

#[derive(sqlx::FromRow)]
struct StageRow {
    stage_id: Uuid,
    pipeline_id: Uuid,
    name: String,
    position: i32,
    kind: i16,
    default_probability: i16,
}

/// The open stages known, of one pipeline or all, by pipeline then position.
pub async fn open_stages(
    connection: &mut PgConnection,
    pipeline_id: Option<Uuid>,
) -> sqlx::Result<Vec<PipelineStage>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT stage_id, pipeline_id, name, position, kind, default_probability \
         FROM pipeline_stages d WHERE kind = ",
    );
    query.push_bind(StageKind::Open as i16);
    push_pipeline(&mut query, pipeline_id);
    query.push(" ORDER BY pipeline_id, position, stage_id");
    query
        .build_query_as::<StageRow>()
        .fetch_all(connection)
        .await?
        .into_iter()
        .map(|row| {
            let decode = |what: String| sqlx::Error::Decode(what.into());
            Ok(PipelineStage {
                stage_id: row.stage_id,
                pipeline_id: row.pipeline_id,
                name: row.name,
                position: u32::try_from(row.position).map_err(|error| decode(error.to_string()))?,
                kind: StageKind::from_stored(row.kind)
                    .ok_or_else(|| decode(format!("stage kind {}", row.kind)))?,
                default_probability: u8::try_from(row.default_probability)
                    .map_err(|error| decode(error.to_string()))?,
            })
        })
        .collect()
}
