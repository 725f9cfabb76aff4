import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
} from '@nestjs/common';

import { ApiKeyEntity } from '@app/persistence';

import { AuthenticatedRequest } from './api-key.guard';
import { ApiKeysService } from './api-keys.service';
import { RequireRole } from './roles.decorator';

interface ApiKeyResponse {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

function mapApiKey(row: ApiKeyEntity): ApiKeyResponse {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.keyPrefix,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

@Controller('v1/api-keys')
@RequireRole('admin')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @HttpCode(201)
  async create(
    @Body() body: { name?: unknown; role?: unknown } | undefined,
    @Req() request: AuthenticatedRequest,
  ): Promise<ApiKeyResponse & { key: string }> {
    const { key, row } = await this.apiKeys.create(
      typeof body?.name === 'string' ? body.name : '',
      typeof body?.role === 'string' ? body.role : '',
      request.apiKey?.prefix ?? 'unknown',
    );
    return { ...mapApiKey(row), key };
  }

  @Get()
  async list(): Promise<{ items: ApiKeyResponse[] }> {
    return { items: (await this.apiKeys.list()).map(mapApiKey) };
  }

  @Delete(':id')
  async revoke(@Param('id', new ParseUUIDPipe()) id: string): Promise<ApiKeyResponse> {
    return mapApiKey(await this.apiKeys.revoke(id));
  }
}
