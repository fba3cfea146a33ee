import type { ArgumentMetadata } from '@nestjs/common';
import { IsString, Matches } from 'class-validator';
import { ApiError } from './api-error';
import { LedgerValidationPipe } from './ledger-validation.pipe';

class Validated {
  @IsString({ message: 'must be a string' })
  @Matches(/^[a-z]+$/, { message: 'must be lower-case letters' })
  name: string;
}

class NotValidated {
  name: string;
}

describe('LedgerValidationPipe', () => {
  const pipe = new LedgerValidationPipe();
  const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });

  it('validates a DTO and names the first field at fault', async () => {
    await expect(pipe.transform({ name: 'abc' }, body(Validated))).resolves.toBeInstanceOf(Validated);
    await expect(pipe.transform({ name: 'ABC' }, body(Validated))).rejects.toEqual(
      new ApiError('INVALID_REQUEST', 'name: must be lower-case letters', 'name'),
    );
    await expect(pipe.transform({ name: 'abc', extra: 1 }, body(Validated))).rejects.toMatchObject({
      field: 'extra',
    });
  });

  it('leaves alone what is not a validated DTO: raw bytes, plain classes, custom decorators', async () => {
    const raw = Buffer.from('notify_id=1&sign=x');
    await expect(pipe.transform(raw, body(Buffer))).resolves.toBe(raw);
    const plain = { anything: 'goes' };
    await expect(pipe.transform(plain, body(NotValidated))).resolves.toBe(plain);
    await expect(pipe.transform(plain, { type: 'custom', metatype: Validated })).resolves.toBe(plain);
    await expect(pipe.transform(plain, body(undefined))).resolves.toBe(plain);
  });
});
