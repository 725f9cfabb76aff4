import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AppConfig } from '@app/config';

import { buildDataSourceOptions } from './data-source';

@Module({})
export class PersistenceModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRoot({
          ...buildDataSourceOptions({ url: config.databaseUrl, schema: config.databaseSchema }),
          // A short wait at start covers PostgreSQL starting alongside the service.
          retryAttempts: 10,
          retryDelay: 2000,
        }),
      ],
      exports: [TypeOrmModule],
    };
  }
}
