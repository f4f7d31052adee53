// Short names for the generated schema's component types, so that code reads in the sales
// domain's words rather than in protobuf package paths.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Money = Schemas["crm.common.v1.Money"];
export type LocalizableText = Schemas["crm.common.v1.LocalizableText"];
export type User = Schemas["crm.gateway.v1.User"];
export type Role = Schemas["crm.gateway.v1.Role"];
export type OrgSettings = Schemas["crm.gateway.v1.OrgSettings"];

export type Opportunity = Schemas["crm.opportunities.v1.Opportunity"];
export type PriorityBoardItem = Schemas["crm.opportunities.v1.PriorityBoardItem"];
export type ScorePart = Schemas["crm.opportunities.v1.ScorePart"];
export type ForecastCategory = Schemas["crm.opportunities.v1.ForecastCategory"];
export type CalendarEntry = Schemas["crm.opportunities.v1.CalendarEntry"];
export type Task = Schemas["crm.opportunities.v1.Task"];
export type StageFunnel = Schemas["crm.opportunities.v1.StageFunnel"];
export type Pipeline = Schemas["crm.opportunities.v1.Pipeline"];
export type Quote = Schemas["crm.opportunities.v1.Quote"];

export type Lead = Schemas["crm.leads.v1.Lead"];
export type Account = Schemas["crm.accounts.v1.Account"];

export type KindAttainment = Schemas["crm.forecasting.v1.KindAttainment"];
export type TargetValue = Schemas["crm.forecasting.v1.TargetValue"];
export type DealTotals = Schemas["crm.forecasting.v1.DealTotals"];
export type PipelineForecast = Schemas["crm.forecasting.v1.PipelineForecast"];
export type LeaderboardEntry = Schemas["crm.forecasting.v1.LeaderboardEntry"];
export type TeamCallLevel = Schemas["crm.forecasting.v1.TeamCallLevel"];

export type Statement = Schemas["crm.compensation.v1.Statement"];
export type PlanPeriod = Schemas["crm.compensation.v1.PlanPeriod"];
export type Enrollment = Schemas["crm.knowledge.v1.Enrollment"];
export type Article = Schemas["crm.knowledge.v1.Article"];
