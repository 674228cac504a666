// Which jupyterhub version a pod's jupyterhub-singleuser runs, so that its start-up probe is answered with that version
// (docs/differences.md, "hub version"; local servers: src/spawner/local/singleuser-version.ts). A singleuser asks
// `GET $JUPYTERHUB_API_URL` untokened as it starts and warns unless the answer's X-JupyterHub-Version is close enough
// to its own (3.x/4.x: same major.minor; 5.x: same major), which no single version is for all three.
// - the caller: a pod reaches the hub from its pod IP (kube-proxy keeps the client address), so an untokened
//   `/hub/api` from the IP of a pod the hub runs a server in is that server's, or its user's code.
// - the version, per image: what the image pre-puller's init container found in the image (prepuller.ts, from its
//   termination message), then what the image's servers themselves report in X-JupyterHub-Version on the readiness
//   check, which wins. Kept in memory: the pre-puller's pods keep their messages, so a restarted hub reads them again
//   at once, and any server start teaches it again.
// One Map lookup per untokened /hub/api; anything unknown gets JUPYTERHUB_VERSION.
import type { Logger } from '../../util/log.ts';

const VERSION = /^[0-9]+\.[0-9]+[0-9A-Za-z.+-]*$/;
/** A version string as a singleuser reports it; longer is no version. */
const MAX_VERSION = 64;

export function isVersion(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_VERSION && VERSION.test(v);
}

interface Known {
  version: string;
  /** 'server': seen in a server's own responses, which a pre-puller report does not overwrite. */
  from: 'puller' | 'server';
}

export class ImageVersions {
  readonly #images = new Map<string, Known>();
  /** pod IP → the server's image; the owner (its spawner) so that a stopping server forgets only its own entry. */
  readonly #pods = new Map<string, { image: string; owner: object }>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** The pre-puller found `version` importable in `image`. */
  fromPuller(image: string, version: string): void {
    if (!isVersion(version) || this.#images.get(image)?.from === 'server') return;
    if (this.#images.get(image)?.version !== version) this.#log.debug(`Image ${image} holds jupyterhub ${version} (pre-puller)`);
    this.#images.set(image, { version, from: 'puller' });
  }

  /** A server of `image` answered with X-JupyterHub-Version `version`. */
  fromServer(image: string, version: string | null): void {
    if (!isVersion(version)) return;
    const known = this.#images.get(image);
    if (known?.version !== version) {
      this.#log.debug(`Image ${image} runs jupyterhub-singleuser ${version}${known ? ` (was taken for ${known.version})` : ''}`);
    }
    this.#images.set(image, { version, from: 'server' });
  }

  /** For /hub/api/info: image → the jupyterhub version its servers are told, and where that came from. */
  known(): Record<string, Known> {
    return Object.fromEntries([...this.#images].map(([image, k]) => [image, { ...k }]));
  }

  /** A server of `image` runs in the pod at `ip`. */
  serve(ip: string, image: string, owner: object): void {
    this.#pods.set(ip, { image, owner });
  }

  forget(ip: string, owner: object): void {
    if (this.#pods.get(ip)?.owner === owner) this.#pods.delete(ip);
  }

  /** The version for an untokened `GET /hub/api` from `address`: its server's image's, when known. */
  forAddress(address: string | undefined): string | undefined {
    if (!address || this.#pods.size === 0) return undefined;
    const pod = this.#pods.get(address.startsWith('::ffff:') ? address.slice(7) : address);
    return pod && this.#images.get(pod.image)?.version;
  }
}

/** One server's side: its pod's IP (known once the pod has a sandbox, before its server runs) and image. */
export class PodProbe {
  readonly #versions: ImageVersions;
  #ip: string | null = null;

  constructor(versions: ImageVersions) {
    this.#versions = versions;
  }

  /** The pod as the informer shows it: from now on an untokened `GET /hub/api` from its IP is this server's. A pod on
   *  the host's network shares the node's IP with everything else there, and is not told apart. */
  seen(pod: Obj | undefined): void {
    const ip: unknown = pod?.status?.podIP;
    const image = notebookImage(pod);
    if (typeof ip !== 'string' || !ip || !image || pod?.spec?.hostNetwork || ip === this.#ip) return;
    this.forget();
    this.#ip = ip;
    this.#versions.serve(ip, image, this);
  }

  /** The server answered its readiness check with this X-JupyterHub-Version. */
  reported(pod: Obj | undefined, version: string | null): void {
    const image = notebookImage(pod);
    if (image) this.#versions.fromServer(image, version);
  }

  /** The server is stopping or gone. */
  forget(): void {
    if (this.#ip) this.#versions.forget(this.#ip, this);
    this.#ip = null;
  }
}

type Obj = Record<string, any>;

/** The image of the pod's server container. */
export function notebookImage(pod: Obj | undefined): string | null {
  const c = (pod?.spec?.containers ?? []).find((x: Obj) => x.name === 'notebook');
  return typeof c?.image === 'string' ? c.image : null;
}
