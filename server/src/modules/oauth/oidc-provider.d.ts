// The part of oidc-provider's API Haven uses (the package ships no type declarations).
declare module 'oidc-provider' {
  import type { KeyObject } from 'node:crypto';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, unknown>;

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export type Configuration = Record<string, unknown>;

  export interface ClientInstance {
    readonly clientId: string;
    readonly clientSecret?: string;
    /** The scopes the client may be given, space-separated (adapter.ts, clientMetadata). */
    readonly scope?: string;
    readonly redirectUris?: readonly string[];
    readonly clientAuthMethod?: string;
    compareClientSecret(actual: string): Promise<boolean> | boolean;
    grantTypeAllowed(grantType: string): boolean;
  }

  export interface GrantInstance {
    readonly jti: string;
    accountId?: string;
    clientId?: string;
    addResourceScope(resource: string, scope: string): void;
    addOIDCScope(scope: string): void;
    getResourceScope(resource: string): string;
    save(ttl?: number): Promise<string>;
    destroy(): Promise<void>;
  }

  export interface InteractionInstance {
    readonly uid: string;
    readonly exp: number;
    readonly returnTo: string;
    readonly params: Record<string, unknown>;
    readonly prompt: { name: string; reasons: string[] };
    result?: Record<string, unknown>;
    save(ttl: number): Promise<string>;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    readonly issuer: string;
    proxy: boolean;
    readonly Client: { prototype: ClientInstance };
    readonly Grant: {
      new (properties: { accountId: string; clientId: string }): GrantInstance;
      find(id: string): Promise<GrantInstance | undefined>;
    };
    readonly Interaction: { find(uid: string): Promise<InteractionInstance | undefined> };
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
    use(middleware: (ctx: never, next: () => Promise<void>) => Promise<void>): this;
  }

  /**
   * A signing key whose private half stays with its owner: the provider asks it to sign (behind
   * features.externalSigningSupport, experimental in 9.x and acknowledged by version).
   */
  export class ExternalSigningKey {
    kid: string;
    alg: string;
    keyObject(): KeyObject;
    sign(data: Buffer): Promise<Uint8Array> | Uint8Array;
  }

  export const errors: {
    readonly InvalidTarget: new (description?: string) => Error;
    readonly InvalidGrant: new (description?: string) => Error;
  };
}
