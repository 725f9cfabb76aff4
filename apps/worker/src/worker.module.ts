import { DynamicModule, Module } from '@nestjs/common';
import { Logger } from 'pino';

import { RootLoggerModule, ServiceMetrics } from '@app/common';
import { AppConfig, ConfigModule } from '@app/config';
import { PersistenceModule } from '@app/persistence';
import { QueueModule } from '@app/queue';

import { DeliveryHandlerService } from './ingest/delivery-handler.service';
import { DeliveryProcessor } from './ingest/delivery.processor';
import { ImageStoreService } from './ingest/image-store.service';
import { IngestService } from './ingest/ingest.service';
import { JobSchedulerService } from './job-scheduler.service';
import { FreshnessProcessor } from './lineage/freshness.processor';
import { FreshnessService } from './lineage/freshness.service';
import { LineageService } from './lineage/lineage.service';
import { MaintenanceProcessor } from './maintenance/maintenance.processor';
import { OutboxSweeperService } from './maintenance/outbox-sweeper.service';
import { OutboxWriterService } from './maintenance/outbox-writer.service';
import { ReconcileService } from './maintenance/reconcile.service';
import { RegistryClientsService } from './registry-clients.service';
import { PolicyReverificationService } from './signatures/policy-reverification.service';
import { SignatureDiscoveryService } from './signatures/signature-discovery.service';
import { SignatureMetrics } from './signatures/signature-metrics';
import { SignatureSchedulerService } from './signatures/signature-scheduler.service';
import { SignatureStoreService } from './signatures/signature-store.service';
import { SignatureVerificationService } from './signatures/signature-verification.service';
import { SignatureProcessor } from './signatures/signature.processor';
import { TrustPolicyService } from './signatures/trust-policy.service';

@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, logger: Logger, metrics = new ServiceMetrics()): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        RootLoggerModule.forRoot(logger),
        PersistenceModule.forRoot(config),
        QueueModule.forRoot(config),
      ],
      providers: [
        { provide: ServiceMetrics, useValue: metrics },
        RegistryClientsService,
        ImageStoreService,
        IngestService,
        LineageService,
        FreshnessService,
        JobSchedulerService,
        DeliveryHandlerService,
        OutboxWriterService,
        OutboxSweeperService,
        ReconcileService,
        SignatureMetrics,
        SignatureSchedulerService,
        SignatureStoreService,
        TrustPolicyService,
        SignatureDiscoveryService,
        SignatureVerificationService,
        PolicyReverificationService,
        DeliveryProcessor,
        FreshnessProcessor,
        MaintenanceProcessor,
        SignatureProcessor,
      ],
    };
  }
}
