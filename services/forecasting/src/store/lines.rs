//! SQL of the deals' line items (`deal_lines`), replaced with their deal's row.

use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::deal_lines::DealLine;

/// Writes the lines of deal `deal_id` (none: nothing to write). The deal's old lines go with
/// its row's replacement (`store::deals::replace`).
pub async fn insert(
    connection: &mut PgConnection,
    deal_id: Uuid,
    lines: &[DealLine],
) -> sqlx::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::<Postgres>::new(
        "INSERT INTO deal_lines (deal_id, line, product_code, product_name, corporate_amount) ",
    );
    query.push_values(lines.iter().enumerate(), |mut row, (index, line)| {
        // The opportunities service allows at most 200 line items.
        row.push_bind(deal_id)
            .push_bind(i16::try_from(index).unwrap_or(i16::MAX))
            .push_bind(line.product_code.clone())
            .push_bind(line.product_name.clone())
            .push_bind(line.corporate_amount);
    });
    query.build().execute(connection).await?;
    Ok(())
}
