import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128062452 as SqliteInitial } from './sqlite/Migration20261128062452';
import { Migration20261128070041 as SqliteExportJobs } from './sqlite/Migration20261128070041';
import { Migration20261128071832 as SqliteLatency } from './sqlite/Migration20261128071832';
import { Migration20261130074357 as SqliteLeases } from './sqlite/Migration20261130074357';
import { Migration20261130101628 as SqliteAuth } from './sqlite/Migration20261130101628';
import { Migration20261130110942 as SqliteCifar } from './sqlite/Migration20261130110942';
import { Migration20261130135104 as SqliteManifests } from './sqlite/Migration20261130135104';
import { Migration20261130164813 as SqliteRetrainInit } from './sqlite/Migration20261130164813';
import { Migration20261130164927 as SqliteRankingStudies } from './sqlite/Migration20261130164927';
import { Migration20261130171158 as SqliteTrajectoryScoring } from './sqlite/Migration20261130171158';
import { Migration20261130173504 as SqliteRunDataset } from './sqlite/Migration20261130173504';
import { Migration20261130174019 as SqliteTrajectoryPicks } from './sqlite/Migration20261130174019';
import { Migration20261130200451 as SqliteDemoPipelines } from './sqlite/Migration20261130200451';
import { Migration20261130201500 as SqliteRunBackends } from './sqlite/Migration20261130201500';
import { Migration20261201030201 as SqliteUndisturbedLatency } from './sqlite/Migration20261201030201';
import { Migration20261128062452 as PostgresqlInitial } from './postgresql/Migration20261128062452';
import { Migration20261128070041 as PostgresqlExportJobs } from './postgresql/Migration20261128070041';
import { Migration20261128071832 as PostgresqlLatency } from './postgresql/Migration20261128071832';
import { Migration20261130074358 as PostgresqlLeases } from './postgresql/Migration20261130074358';
import { Migration20261130101629 as PostgresqlAuth } from './postgresql/Migration20261130101629';
import { Migration20261130110942 as PostgresqlCifar } from './postgresql/Migration20261130110942';
import { Migration20261130135104 as PostgresqlManifests } from './postgresql/Migration20261130135104';
import { Migration20261130164813 as PostgresqlRetrainInit } from './postgresql/Migration20261130164813';
import { Migration20261130164928 as PostgresqlRankingStudies } from './postgresql/Migration20261130164928';
import { Migration20261130171158 as PostgresqlTrajectoryScoring } from './postgresql/Migration20261130171158';
import { Migration20261130173504 as PostgresqlRunDataset } from './postgresql/Migration20261130173504';
import { Migration20261130174019 as PostgresqlTrajectoryPicks } from './postgresql/Migration20261130174019';
import { Migration20261130200451 as PostgresqlDemoPipelines } from './postgresql/Migration20261130200451';
import { Migration20261130201500 as PostgresqlRunBackends } from './postgresql/Migration20261130201500';
import { Migration20261201030201 as PostgresqlUndisturbedLatency } from './postgresql/Migration20261201030201';

/** Listed explicitly so migrations load the same way from TypeScript sources and compiled JS. */
export const SQLITE_MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261128062452', class: SqliteInitial },
  { name: 'Migration20261128070041', class: SqliteExportJobs },
  { name: 'Migration20261128071832', class: SqliteLatency },
  { name: 'Migration20261130074357', class: SqliteLeases },
  { name: 'Migration20261130101628', class: SqliteAuth },
  { name: 'Migration20261130110942', class: SqliteCifar },
  { name: 'Migration20261130135104', class: SqliteManifests },
  { name: 'Migration20261130164813', class: SqliteRetrainInit },
  { name: 'Migration20261130164927', class: SqliteRankingStudies },
  { name: 'Migration20261130171158', class: SqliteTrajectoryScoring },
  { name: 'Migration20261130173504', class: SqliteRunDataset },
  { name: 'Migration20261130174019', class: SqliteTrajectoryPicks },
  { name: 'Migration20261130200451', class: SqliteDemoPipelines },
  { name: 'Migration20261130201500', class: SqliteRunBackends },
  { name: 'Migration20261201030201', class: SqliteUndisturbedLatency },
];

export const POSTGRESQL_MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261128062452', class: PostgresqlInitial },
  { name: 'Migration20261128070041', class: PostgresqlExportJobs },
  { name: 'Migration20261128071832', class: PostgresqlLatency },
  { name: 'Migration20261130074358', class: PostgresqlLeases },
  { name: 'Migration20261130101629', class: PostgresqlAuth },
  { name: 'Migration20261130110942', class: PostgresqlCifar },
  { name: 'Migration20261130135104', class: PostgresqlManifests },
  { name: 'Migration20261130164813', class: PostgresqlRetrainInit },
  { name: 'Migration20261130164928', class: PostgresqlRankingStudies },
  { name: 'Migration20261130171158', class: PostgresqlTrajectoryScoring },
  { name: 'Migration20261130173504', class: PostgresqlRunDataset },
  { name: 'Migration20261130174019', class: PostgresqlTrajectoryPicks },
  { name: 'Migration20261130200451', class: PostgresqlDemoPipelines },
  { name: 'Migration20261130201500', class: PostgresqlRunBackends },
  { name: 'Migration20261201030201', class: PostgresqlUndisturbedLatency },
];
