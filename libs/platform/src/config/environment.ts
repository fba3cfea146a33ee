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

const BOOLEAN_MESSAGE = (name: string) => `${name} must be true or false`;

const READY_LAG_MESSAGE =
  'READY_MAX_PROJECTION_LAG_SECONDS must be an integer number of seconds from 0 to 86400: how old the oldest ' +
  'event a projection has not applied may be before GET /health/ready answers 503, e.g. 60';

const METRICS_TOKEN_MESSAGE =
  'METRICS_TOKEN must be at least 32 printable ASCII characters without spaces (Prometheus sends it in an ' +
  'Authorization: Bearer header), e.g. the output of: openssl rand -base64 32';

/** The request builders append `?service=…` to the gateway, and the ledger its paths to the base URL. */
const URL_WITHOUT_QUERY = /^https?:\/\/[^\s?#]+$/;

const GATEWAY_MESSAGE =
  'ALIPAY_GATEWAY must be an http(s) URL without query or fragment, e.g. https://mapi.alipay.com/gateway.do ' +
  "(drop the trailing ? of the value in Alipay's PHP kit)";

const PUBLIC_BASE_URL_MESSAGE =
  'PUBLIC_BASE_URL must be the http(s) URL at which Alipay and buyers reach this ledger, without query or ' +
  'fragment, e.g. https://shop.example.com';

const ADMIN_TOKEN_MESSAGE =
  'ADMIN_TOKEN must be at least 32 printable ASCII characters without spaces (it travels in an ' +
  'Authorization: Bearer header), e.g. the output of: openssl rand -base64 32';

const POOL_SIZE_MESSAGE =
  'DATABASE_POOL_SIZE must be an integer from 4 to 100: the projector holds one connection for the life of ' +
  "the process, the process managers' consumers a second, and requests, notifications and the workers need " +
  'at least two more to make progress together; with fewer they wait for a connection until ' +
  'DATABASE_ACQUIRE_TIMEOUT_MS and fail';

const WEBHOOK_URL_MESSAGE =
  "MERCHANT_WEBHOOK_URL must be the http(s) URL of the merchant's webhook receiver, e.g. " +
  'https://shop.example.com/webhooks/ledger';

const WEBHOOK_TIMEOUT_MESSAGE = (name: string, example: number) =>
  `${name} must be a number of milliseconds from 100 to 600000, e.g. ${example}`;

const WEBHOOK_CONCURRENCY_MESSAGE =
  'MERCHANT_WEBHOOK_CONCURRENCY must be an integer from 1 to 256: how many webhooks one instance sends at once';

const WEBHOOK_CONCURRENCY_WHILE_BUSY_MESSAGE =
  'MERCHANT_WEBHOOK_CONCURRENCY_WHILE_BUSY must be an integer from 1 to 256: how many webhooks one instance ' +
  "sends at once while Alipay's notifications wait on it";

const FULFILMENT_INTERVAL_WHILE_BUSY_MESSAGE =
  'FULFILMENT_BATCH_INTERVAL_WHILE_BUSY_MS must be an integer from 0 to 60000: the least milliseconds between ' +
  "two batches of the fulfilment outbox while Alipay's notifications wait on the instance (0: never held back)";

const REFUND_TIMEOUT_MESSAGE =
  'REFUND_RESULT_TIMEOUT_MINUTES must be a number of minutes above 0 and at most 525600 (a year), e.g. 1440';

const PWD_EXPIRY_MESSAGE =
  'REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS must be a number of hours above 0 and at most 8760 (a year), e.g. 72';

const RECONCILE_AWAITING_MESSAGE =
  'RECONCILE_AWAITING_AFTER_MINUTES must be an integer number of minutes from 1 to 10080 (a week) after which ' +
  'an order still awaiting payment is asked about with single_trade_query, e.g. 15';

const RECONCILE_HORIZON_MESSAGE =
  'RECONCILE_HORIZON_DAYS must be an integer number of days from 1 to 90 during which an order is asked ' +
  'about, e.g. 7';

/**
 * The environment as docs/product-rules.md, "Configuration" defines it, plus a few operational knobs. Every
 * property is validated at boot; the messages say what each variable accepts, because they are all an
 * operator sees.
 */
export class Environment {
  @IsOptional()
  @IsIn(['demo', 'live'], {
    message:
      'LEDGER_MODE must be demo (the sandbox plays Alipay, no real money) or live (real Alipay credentials)',
  })
  LEDGER_MODE?: 'demo' | 'live';

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
  @MinLength(1, { message: 'HOST must be a host name or an address to listen on, e.g. 127.0.0.1 or 0.0.0.0' })
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

  /** Checked key by key in `md5-keys.ts`, for a message that says which key of a rotation is wrong. */
  @IsOptional()
  @IsString()
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
    { message: GATEWAY_MESSAGE },
  )
  @Matches(URL_WITHOUT_QUERY, { message: GATEWAY_MESSAGE })
  ALIPAY_GATEWAY?: string;

  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value))
  @IsIn(['utf-8', 'gbk'], { message: 'ALIPAY_INPUT_CHARSET must be utf-8 or gbk' })
  ALIPAY_INPUT_CHARSET?: 'utf-8' | 'gbk';

  @IsOptional()
  @IsBooleanString({ message: BOOLEAN_MESSAGE('ALIPAY_VERIFY_NOTIFY_ID') })
  ALIPAY_VERIFY_NOTIFY_ID?: string;

  @IsOptional()
  @IsBooleanString({ message: BOOLEAN_MESSAGE('FULFILMENT_WORKER') })
  FULFILMENT_WORKER?: string;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: FULFILMENT_INTERVAL_WHILE_BUSY_MESSAGE })
  @Min(0, { message: FULFILMENT_INTERVAL_WHILE_BUSY_MESSAGE })
  @Max(60_000, { message: FULFILMENT_INTERVAL_WHILE_BUSY_MESSAGE })
  FULFILMENT_BATCH_INTERVAL_WHILE_BUSY_MS?: number;

  @IsOptional()
  @IsBooleanString({ message: BOOLEAN_MESSAGE('RECONCILE_WORKER') })
  RECONCILE_WORKER?: string;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: RECONCILE_AWAITING_MESSAGE })
  @Min(1, { message: RECONCILE_AWAITING_MESSAGE })
  @Max(10_080, { message: RECONCILE_AWAITING_MESSAGE })
  RECONCILE_AWAITING_AFTER_MINUTES?: number;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: RECONCILE_HORIZON_MESSAGE })
  @Min(1, { message: RECONCILE_HORIZON_MESSAGE })
  @Max(90, { message: RECONCILE_HORIZON_MESSAGE })
  RECONCILE_HORIZON_DAYS?: number;

  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === undefined || value === '' ? undefined : Number(value),
  )
  @IsNumber({}, { message: REFUND_TIMEOUT_MESSAGE })
  @IsPositive({ message: REFUND_TIMEOUT_MESSAGE })
  @Max(525_600, { message: REFUND_TIMEOUT_MESSAGE })
  REFUND_RESULT_TIMEOUT_MINUTES?: number;

  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === undefined || value === '' ? undefined : Number(value),
  )
  @IsNumber({}, { message: PWD_EXPIRY_MESSAGE })
  @IsPositive({ message: PWD_EXPIRY_MESSAGE })
  @Max(8_760, { message: PWD_EXPIRY_MESSAGE })
  REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS?: number;

  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: PUBLIC_BASE_URL_MESSAGE },
  )
  @Matches(URL_WITHOUT_QUERY, { message: PUBLIC_BASE_URL_MESSAGE })
  PUBLIC_BASE_URL?: string;

  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: WEBHOOK_URL_MESSAGE },
  )
  MERCHANT_WEBHOOK_URL?: string;

  /** Checked in `webhook-settings.ts`, for a message that says what is wrong without showing the secret. */
  @IsOptional()
  @IsString()
  MERCHANT_WEBHOOK_SECRET?: string;

  /** Checked in `webhook-settings.ts`, which names the entry that is wrong. */
  @IsOptional()
  @IsString()
  MERCHANT_WEBHOOK_RETRY_SCHEDULE?: string;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: WEBHOOK_TIMEOUT_MESSAGE('MERCHANT_WEBHOOK_CONNECT_TIMEOUT_MS', 5_000) })
  @Min(100, { message: WEBHOOK_TIMEOUT_MESSAGE('MERCHANT_WEBHOOK_CONNECT_TIMEOUT_MS', 5_000) })
  @Max(600_000, { message: WEBHOOK_TIMEOUT_MESSAGE('MERCHANT_WEBHOOK_CONNECT_TIMEOUT_MS', 5_000) })
  MERCHANT_WEBHOOK_CONNECT_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: WEBHOOK_TIMEOUT_MESSAGE('MERCHANT_WEBHOOK_TIMEOUT_MS', 15_000) })
  @Min(100, { message: WEBHOOK_TIMEOUT_MESSAGE('MERCHANT_WEBHOOK_TIMEOUT_MS', 15_000) })
  @Max(600_000, { message: WEBHOOK_TIMEOUT_MESSAGE('MERCHANT_WEBHOOK_TIMEOUT_MS', 15_000) })
  MERCHANT_WEBHOOK_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: WEBHOOK_CONCURRENCY_MESSAGE })
  @Min(1, { message: WEBHOOK_CONCURRENCY_MESSAGE })
  @Max(256, { message: WEBHOOK_CONCURRENCY_MESSAGE })
  MERCHANT_WEBHOOK_CONCURRENCY?: number;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: WEBHOOK_CONCURRENCY_WHILE_BUSY_MESSAGE })
  @Min(1, { message: WEBHOOK_CONCURRENCY_WHILE_BUSY_MESSAGE })
  @Max(256, { message: WEBHOOK_CONCURRENCY_WHILE_BUSY_MESSAGE })
  MERCHANT_WEBHOOK_CONCURRENCY_WHILE_BUSY?: number;

  @IsOptional()
  @Matches(/^[\x21-\x7e]{32,}$/, { message: ADMIN_TOKEN_MESSAGE })
  ADMIN_TOKEN?: string;

  @IsOptional()
  @Matches(/^[\x21-\x7e]{32,}$/, { message: METRICS_TOKEN_MESSAGE })
  METRICS_TOKEN?: string;

  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: READY_LAG_MESSAGE })
  @Min(0, { message: READY_LAG_MESSAGE })
  @Max(86_400, { message: READY_LAG_MESSAGE })
  READY_MAX_PROJECTION_LAG_SECONDS?: number;

  @IsOptional()
  @IsBooleanString({ message: BOOLEAN_MESSAGE('EMBEDDED_DATABASE_ACCEPT_DATA_LOSS') })
  EMBEDDED_DATABASE_ACCEPT_DATA_LOSS?: string;

  @IsOptional()
  @IsBooleanString({ message: BOOLEAN_MESSAGE('API_DOCS') })
  API_DOCS?: string;

  @IsOptional()
  @IsBooleanString({ message: BOOLEAN_MESSAGE('DEMO_PAGE') })
  DEMO_PAGE?: string;

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
  @IsBooleanString({ message: BOOLEAN_MESSAGE('DATABASE_PREPARED_STATEMENTS') })
  DATABASE_PREPARED_STATEMENTS?: string;

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
  @IsInt({ message: POOL_SIZE_MESSAGE })
  @Min(4, { message: POOL_SIZE_MESSAGE })
  @Max(100, { message: POOL_SIZE_MESSAGE })
  DATABASE_POOL_SIZE?: number;
}
