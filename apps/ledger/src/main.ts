import { NestFactory } from '@nestjs/core';
import { Controller, Get, Module } from '@nestjs/common';

@Controller()
class HealthController {
  @Get('health')
  health() {
    return { status: 'ok' };
  }
}

@Module({ controllers: [HealthController] })
class LedgerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(LedgerModule);
  await app.listen(Number(process.env.PORT ?? 3000));
}

void main();
