import { Inject, Injectable } from '@nestjs/common';

import { ServiceMetrics } from '@app/common';
import { APP_CONFIG, AppConfig, findRegistryByName } from '@app/config';
import { RegistryClient } from '@app/registry-client';

/** One registry client per configured registry; clients cache their bearer tokens. */
@Injectable()
export class RegistryClientsService {
  private readonly clients = new Map<string, RegistryClient>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: ServiceMetrics,
  ) {}

  get(name: string): RegistryClient {
    const existing = this.clients.get(name);
    if (existing) return existing;
    const registry = findRegistryByName(this.config, name);
    if (!registry) throw new Error(`Registry "${name}" is not configured`);
    const client = new RegistryClient({
      name: registry.name,
      baseUrl: registry.url,
      credentials: registry.credentials,
      tokenRealmOrigins: registry.tokenRealmOrigins,
      onRequest: (info) => {
        const status = info.status ? `${Math.floor(info.status / 100)}xx` : 'error';
        this.metrics.registryRequests.inc({ registry: registry.name, status });
      },
    });
    this.clients.set(name, client);
    return client;
  }
}
