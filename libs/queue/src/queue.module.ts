import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';

import { AppConfig } from '@app/config';

import { defaultJobOptions, QueueName } from './queues';

/** Registers the Redis connection and every queue for producers and consumers alike. */
@Module({})
export class QueueModule {
  static forRoot(config: AppConfig): DynamicModule {
    const bull = BullModule.forRoot({
      connection: { url: config.redisUrl, maxRetriesPerRequest: null },
      prefix: config.queuePrefix,
      defaultJobOptions: defaultJobOptions(config.jobAttempts, config.jobBackoffMs),
    });
    const queues = BullModule.registerQueue(
      { name: QueueName.Ingest },
      { name: QueueName.Freshness },
      { name: QueueName.Maintenance },
      { name: QueueName.Signatures },
    );
    return { module: QueueModule, imports: [bull, queues], exports: [bull, queues] };
  }
}
