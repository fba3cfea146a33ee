import { Transform } from 'class-transformer';
import {
  IsBooleanString,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

const toNumber = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);

const TIMEOUT_MESSAGE = (name: string, example: number) =>
  `${name} must be a number of milliseconds from 100 to 3600000, e.g. ${example}`;

const RETENTION_MESSAGE =
  'INBOX_RETENTION_DAYS must be a number of days from 1 to 36500 after which unverified notifications may be purged, e.g. 90';

const REFUND_TIMEOUT_MESSAGE =
  'REFUND_RESULT_TIMEOUT_MINUTES must be a number of minutes above 0 and at most 525600 (a year), e.g. 1440';

/**
 * The environment as SPEC §4 defines it, plus a few operational knobs. Every property is validated at boot;
 * the messages say what each variable accepts, because they are all an operator sees.
 */
export class Environment {
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === undefined || value === '' ? undefined : Number(value),
  )
  @IsInt({ message: 'PORT must be an integer from 1 to 65535' })
  @Min(1, { message: 'PORT must be an integer from 1 to 65535' })
  @Max(65535, { message: 'PORT must be an integer from 1 to 65535' })
  PORT?: number;

  @IsOptional()
  @IsString()
  @MinLength(1, { message: 'HOST must be a host name or an address to listen on, e.g. 0.0.0.0' })
  HOST?: string;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must be a PostgreSQL connection string, e.g. postgres://user@host:5432/db',
  })
  DATABASE_URL?: string;

  @IsOptional()
  @IsString()
  @MinLength(1, { message: 'DATA_DIR must be a directory path' })
  DATA_DIR?: string;

  @IsOptional()
  @Matches(/^2088\d{12}$/, { message: 'ALIPAY_PARTNER must be a partner id: 2088 followed by 12 digits' })
  ALIPAY_PARTNER?: string;

  @IsOptional()
  @Matches(/^[0-9A-Za-z]{16,64}(,[0-9A-Za-z]{16,64})*$/, {
    message:
      'ALIPAY_KEY must be the MD5 key (letters and digits, usually 32); during a rotation, several keys ' +
      'separated by commas, the first one signing',
  })
  ALIPAY_KEY?: string;

  @IsOptional()
  @IsIn(['MD5', 'RSA'], { message: 'ALIPAY_SIGN_TYPE must be MD5 or RSA' })
  ALIPAY_SIGN_TYPE?: 'MD5' | 'RSA';

  @IsOptional()
  @IsString()
  ALIPAY_PRIVATE_KEY_FILE?: string;

  @IsOptional()
  @IsString()
  ALIPAY_PUBLIC_KEY_FILE?: string;

  @IsOptional()
  @Matches(/^2088\d{12}$/, { message: 'ALIPAY_SELLER_ID must be a user id: 2088 followed by 12 digits' })
  ALIPAY_SELLER_ID?: string;

  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: 'ALIPAY_GATEWAY must be an http(s) URL, e.g. https://mapi.alipay.com/gateway.do' },
  )
  ALIPAY_GATEWAY?: string;

  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value))
  @IsIn(['utf-8', 'gbk'], { message: 'ALIPAY_INPUT_CHARSET must be utf-8 or gbk' })
  ALIPAY_INPUT_CHARSET?: 'utf-8' | 'gbk';

  @IsOptional()
  @IsBooleanString({ message: 'ALIPAY_VERIFY_NOTIFY_ID must be true or false' })
  ALIPAY_VERIFY_NOTIFY_ID?: string;

  @IsOptional()
  @IsBooleanString({ message: 'FULFILMENT_WORKER must be true or false' })
  FULFILMENT_WORKER?: string;

  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === undefined || value === '' ? undefined : Number(value),
  )
  @IsNumber({}, { message: REFUND_TIMEOUT_MESSAGE })
  @IsPositive({ message: REFUND_TIMEOUT_MESSAGE })
  @Max(525_600, { message: REFUND_TIMEOUT_MESSAGE })
  REFUND_RESULT_TIMEOUT_MINUTES?: number;

  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    {
      message: 'PUBLIC_BASE_URL must be an http(s) URL that Alipay can reach, e.g. https://shop.example.com',
    },
  )
  PUBLIC_BASE_URL?: string;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
  })
  LOG_LEVEL?: string;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: TIMEOUT_MESSAGE('DATABASE_STATEMENT_TIMEOUT_MS', 30_000) })
  @Min(100, { message: TIMEOUT_MESSAGE('DATABASE_STATEMENT_TIMEOUT_MS', 30_000) })
  @Max(3_600_000, { message: TIMEOUT_MESSAGE('DATABASE_STATEMENT_TIMEOUT_MS', 30_000) })
  DATABASE_STATEMENT_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: TIMEOUT_MESSAGE('DATABASE_LOCK_TIMEOUT_MS', 10_000) })
  @Min(100, { message: TIMEOUT_MESSAGE('DATABASE_LOCK_TIMEOUT_MS', 10_000) })
  @Max(3_600_000, { message: TIMEOUT_MESSAGE('DATABASE_LOCK_TIMEOUT_MS', 10_000) })
  DATABASE_LOCK_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: TIMEOUT_MESSAGE('DATABASE_ACQUIRE_TIMEOUT_MS', 5_000) })
  @Min(100, { message: TIMEOUT_MESSAGE('DATABASE_ACQUIRE_TIMEOUT_MS', 5_000) })
  @Max(3_600_000, { message: TIMEOUT_MESSAGE('DATABASE_ACQUIRE_TIMEOUT_MS', 5_000) })
  DATABASE_ACQUIRE_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: RETENTION_MESSAGE })
  @Min(1, { message: RETENTION_MESSAGE })
  @Max(36_500, { message: RETENTION_MESSAGE })
  INBOX_RETENTION_DAYS?: number;

  @IsOptional()
  @Matches(/^(\*|https?:\/\/[^\s,/]+(,https?:\/\/[^\s,/]+)*)$/, {
    message:
      'CORS_ORIGINS must be origins separated by commas (e.g. https://admin.example.com,https://ops.example.com), ' +
      'or * for any origin',
  })
  CORS_ORIGINS?: string;

  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === undefined || value === '' ? undefined : Number(value),
  )
  @IsInt({ message: 'DATABASE_POOL_SIZE must be an integer from 1 to 100' })
  @Min(1, { message: 'DATABASE_POOL_SIZE must be an integer from 1 to 100' })
  @Max(100, { message: 'DATABASE_POOL_SIZE must be an integer from 1 to 100' })
  DATABASE_POOL_SIZE?: number;
}
