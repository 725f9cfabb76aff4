import { Controller, Get, Injectable, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { DomainError, DomainErrorCode } from '@app/common';
import { WebhookDeliveryEntity } from '@app/persistence';

import { RequireRole } from '../auth/roles.decorator';
import { decodeCursor, encodeCursor, parseLimit } from '../images/cursor';
import { Page } from '../images/image.views';

const STATUSES = ['pending', 'processing', 'done', 'skipped', 'failed'];

export interface DeliveryView {
  id: string;
  registry: string;
  source: string;
  eventId: string;
  action: string;
  repository: string;
  tag: string | null;
  digest: string | null;
  mediaType: string | null;
  status: string;
  attempts: number;
  error: { code: string | null; message: string | null } | null;
  detail: string | null;
  receivedAt: string;
  finishedAt: string | null;
}

function mapDelivery(row: WebhookDeliveryEntity): DeliveryView {
  return {
    id: row.id,
    registry: row.registry,
    source: row.source,
    eventId: row.eventId,
    action: row.action,
    repository: row.repository,
    tag: row.tag,
    digest: row.digest,
    mediaType: row.mediaType,
    status: row.status,
    attempts: row.attempts,
    error:
      row.errorCode || row.errorMessage ? { code: row.errorCode, message: row.errorMessage } : null,
    detail: row.detail,
    receivedAt: row.receivedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class DeliveriesService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(filter: {
    status?: string;
    registry?: string;
    limit: number;
    cursor?: string;
  }): Promise<Page<DeliveryView>> {
    const query = this.dataSource
      .getRepository(WebhookDeliveryEntity)
      .createQueryBuilder('d')
      .orderBy('d.receivedAt', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .take(filter.limit + 1);
    if (filter.status) query.andWhere('d.status = :status', { status: filter.status });
    if (filter.registry) query.andWhere('d.registry = :registry', { registry: filter.registry });
    const cursor = decodeCursor(filter.cursor, 2);
    if (cursor) {
      query.andWhere('(d.receivedAt, d.id) < (:receivedAt::timestamptz, :id::uuid)', {
        receivedAt: cursor[0],
        id: cursor[1],
      });
    }
    const rows = await query.getMany();
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(mapDelivery),
      nextCursor:
        rows.length > filter.limit && last
          ? encodeCursor([last.receivedAt.toISOString(), last.id])
          : null,
    };
  }

  async get(id: string): Promise<DeliveryView> {
    const row = await this.dataSource.getRepository(WebhookDeliveryEntity).findOneBy({ id });
    if (!row) throw new DomainError(DomainErrorCode.NotFound, `Delivery ${id} not found.`);
    return mapDelivery(row);
  }
}

@Controller('v1/deliveries')
@RequireRole('security')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get()
  list(
    @Query('status') status?: string,
    @Query('registry') registry?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ): Promise<Page<DeliveryView>> {
    if (status !== undefined && !STATUSES.includes(status)) {
      throw new DomainError(
        DomainErrorCode.BadRequest,
        `status must be one of ${STATUSES.join(', ')}; got "${status}".`,
      );
    }
    return this.deliveries.list({ status, registry, limit: parseLimit(limit), cursor });
  }

  @Get(':id')
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<DeliveryView> {
    return this.deliveries.get(id);
  }
}
