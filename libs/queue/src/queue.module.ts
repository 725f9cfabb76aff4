import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';

import { AppConfig } from '@app/config';

import { DEFAULT_JOB_OPTIONS, QueueName } from './queues';

/** Registers the Redis connection and every queue for producers and consumers alike. */
@Module({})
export class QueueModule {
  static forRoot(config: AppConfig): DynamicModule {
    const bull = BullModule.forRoot({
      connection: { url: config.redisUrl, maxRetriesPerRequest: null },
      prefix: config.queuePrefix,
      defaultJobOptions: DEFAULT_JOB_OPTIONS,
    });
    const queues = BullModule.registerQueue(
      { name: QueueName.Ingest },
      { name: QueueName.Freshness },
      { name: QueueName.Maintenance },
    );
    return { module: QueueModule, imports: [bull, queues], exports: [bull, queues] };
  }
}
