import { type ArgumentMetadata, Injectable, ValidationPipe, type ValidationError } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { ApiError } from './api-error';

/** `field: problem` for the first constraint of the first invalid field, its path dotted. */
function describe(errors: readonly ValidationError[], parent = ''): { field: string; message: string } {
  for (const error of errors) {
    const field = parent === '' ? error.property : `${parent}.${error.property}`;
    const constraint = Object.values(error.constraints ?? {}).at(0);
    if (constraint !== undefined) return { field, message: constraint };
    if (error.children !== undefined && error.children.length > 0) return describe(error.children, field);
  }
  return { field: parent, message: 'is invalid' };
}

/**
 * Validates our own JSON API's DTOs (body, query, path) with class-validator: unknown properties refused,
 * values transformed to the DTO's types, the first problem reported as `ApiError('INVALID_REQUEST')` naming
 * the field. It only touches arguments typed with a class that carries validation decorators, so the
 * Alipay edge (raw bytes) is never parsed or validated by it, wherever it is registered.
 */
@Injectable()
export class LedgerValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => {
        const { field, message } = describe(errors);
        return new ApiError('INVALID_REQUEST', `${field}: ${message}`, field);
      },
    });
  }

  protected override toValidate(metadata: ArgumentMetadata): boolean {
    const { metatype, type } = metadata;
    if (type === 'custom' || typeof metatype !== 'function') return false;
    const validated = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
    return validated.length > 0 && super.toValidate(metadata);
  }
}
