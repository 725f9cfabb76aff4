import { DynamicModule, Global, Module } from '@nestjs/common';
import { Logger } from 'pino';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

@Global()
@Module({})
export class RootLoggerModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: RootLoggerModule,
      providers: [{ provide: ROOT_LOGGER, useValue: logger }],
      exports: [ROOT_LOGGER],
    };
  }
}
