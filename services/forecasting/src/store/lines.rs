//! SQL of the deals' line items (`deal_lines`), replaced with their deals' rows.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crm_platform::deals::lines::DealLine;

/// Writes the lines of each deal (none: nothing to write), in one statement. The deals' old
/// lines go with their rows' replacement (`store::deals::replace_all`).
pub async fn insert_all(
    connection: &mut PgConnection,
    deals: &[(Uuid, &[DealLine])],
) -> sqlx::Result<()> {
    let count: usize = deals.iter().map(|(_, lines)| lines.len()).sum();
    if count == 0 {
        return Ok(());
    }
    let mut deal_ids = Vec::with_capacity(count);
    let mut positions = Vec::with_capacity(count);
    let mut codes = Vec::with_capacity(count);
    let mut names = Vec::with_capacity(count);
    let mut amounts: Vec<Option<Decimal>> = Vec::with_capacity(count);
    for (deal_id, lines) in deals {
        for (index, line) in lines.iter().enumerate() {
            deal_ids.push(*deal_id);
            // The opportunities service allows at most 200 line items.
            positions.push(i16::try_from(index).unwrap_or(i16::MAX));
            codes.push(line.product_code.as_str());
            names.push(line.product_name.as_str());
            amounts.push(line.corporate_amount);
        }
    }
    sqlx::query(
        "INSERT INTO deal_lines (deal_id, line, product_code, product_name, corporate_amount) \
         SELECT * FROM unnest($1::uuid[], $2::smallint[], $3::text[], $4::text[], $5::numeric[])",
    )
    .bind(&deal_ids)
    .bind(&positions)
    .bind(&codes)
    .bind(&names)
    .bind(&amounts)
    .execute(connection)
    .await?;
    Ok(())
}
