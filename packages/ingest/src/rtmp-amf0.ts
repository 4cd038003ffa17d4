import { RtmpProtocolError } from './errors.js';

/**
 * AMF0 (Adobe's "Action Message Format AMF 0", 2007), the encoding of RTMP commands and metadata:
 * just what `connect`, `createStream`, `publish` and `play` and their answers need. Decoding is
 * bounded by the payload: every read is checked, a strict array's count is trusted only as far as
 * the bytes left can hold, nesting stops at {@link maxAmf0Depth}, and objects have no prototype (a
 * key named `__proto__` is just a key).
 */
export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Object | Amf0Value[];
export interface Amf0Object {
  [key: string]: Amf0Value;
}

/** Objects in objects this deep are refused: no command nests more than three. */
export const maxAmf0Depth = 16;

const Marker = {
  number: 0x00,
  boolean: 0x01,
  string: 0x02,
  object: 0x03,
  null: 0x05,
  undefined: 0x06,
  ecmaArray: 0x08,
  objectEnd: 0x09,
  strictArray: 0x0a,
  date: 0x0b,
  longString: 0x0c,
  unsupported: 0x0d,
  xmlDocument: 0x0f,
  typedObject: 0x10,
  avmPlus: 0x11,
} as const;

class Amf0Reader {
  #offset = 0;
  constructor(readonly buffer: Buffer) {}

  get done(): boolean {
    return this.#offset >= this.buffer.length;
  }

  #take(bytes: number): number {
    const at = this.#offset;
    if (at + bytes > this.buffer.length) throw new RtmpProtocolError('an AMF0 value is cut off');
    this.#offset += bytes;
    return at;
  }

  #string(lengthBytes: 2 | 4): string {
    const length =
      lengthBytes === 2 ? this.buffer.readUInt16BE(this.#take(2)) : this.buffer.readUInt32BE(this.#take(4));
    const at = this.#take(length);
    return this.buffer.toString('utf8', at, at + length);
  }

  #properties(target: Amf0Object, depth: number): Amf0Object {
    for (;;) {
      const key = this.#string(2);
      if (key === '') {
        if (this.buffer[this.#take(1)] !== Marker.objectEnd)
          throw new RtmpProtocolError('an AMF0 object has an empty key');
        return target;
      }
      target[key] = this.value(depth + 1);
    }
  }

  value(depth = 0): Amf0Value {
    if (depth > maxAmf0Depth) throw new RtmpProtocolError('AMF0 values nest too deep');
    const marker = this.buffer[this.#take(1)];
    switch (marker) {
      case Marker.number:
        return this.buffer.readDoubleBE(this.#take(8));
      case Marker.boolean:
        return this.buffer[this.#take(1)] !== 0;
      case Marker.string:
        return this.#string(2);
      case Marker.longString:
      case Marker.xmlDocument:
        return this.#string(4);
      case Marker.object:
        return this.#properties(Object.create(null) as Amf0Object, depth);
      case Marker.typedObject:
        this.#string(2); // the class name: nothing here depends on it
        return this.#properties(Object.create(null) as Amf0Object, depth);
      case Marker.ecmaArray:
        this.#take(4); // the count is a hint; the end marker ends it
        return this.#properties(Object.create(null) as Amf0Object, depth);
      case Marker.strictArray: {
        const count = this.buffer.readUInt32BE(this.#take(4));
        // Every value takes at least its marker byte: a count beyond the bytes left is a lie.
        if (count > this.buffer.length - this.#offset)
          throw new RtmpProtocolError('an AMF0 array is longer than its message');
        const values: Amf0Value[] = [];
        for (let index = 0; index < count; index++) values.push(this.value(depth + 1));
        return values;
      }
      case Marker.date: {
        const at = this.#take(10);
        return new Date(this.buffer.readDoubleBE(at));
      }
      case Marker.null:
        return null;
      case Marker.undefined:
      case Marker.unsupported:
        return undefined;
      case Marker.avmPlus:
        throw new RtmpProtocolError('AMF3 values are not supported');
      default:
        throw new RtmpProtocolError(`unknown AMF0 marker ${marker}`);
    }
  }
}

/** Every value in `payload`, in order; throws `RtmpProtocolError` when it does not parse. */
export function decodeAmf0(payload: Buffer): Amf0Value[] {
  const reader = new Amf0Reader(payload);
  const values: Amf0Value[] = [];
  while (!reader.done) values.push(reader.value());
  return values;
}

function encodeString(value: string, parts: Buffer[]): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length <= 0xffff) {
    const header = Buffer.allocUnsafe(3);
    header[0] = Marker.string;
    header.writeUInt16BE(bytes.length, 1);
    parts.push(header, bytes);
    return;
  }
  const header = Buffer.allocUnsafe(5);
  header[0] = Marker.longString;
  header.writeUInt32BE(bytes.length, 1);
  parts.push(header, bytes);
}

function encodeKey(key: string, parts: Buffer[]): void {
  const bytes = Buffer.from(key, 'utf8');
  const length = Buffer.allocUnsafe(2);
  length.writeUInt16BE(bytes.length);
  parts.push(length, bytes);
}

function encodeValue(value: Amf0Value, parts: Buffer[]): void {
  if (typeof value === 'number') {
    const bytes = Buffer.allocUnsafe(9);
    bytes[0] = Marker.number;
    bytes.writeDoubleBE(value, 1);
    parts.push(bytes);
  } else if (typeof value === 'boolean') {
    parts.push(Buffer.from([Marker.boolean, value ? 1 : 0]));
  } else if (typeof value === 'string') {
    encodeString(value, parts);
  } else if (value === null) {
    parts.push(Buffer.from([Marker.null]));
  } else if (value === undefined) {
    parts.push(Buffer.from([Marker.undefined]));
  } else if (value instanceof Date) {
    const bytes = Buffer.alloc(11);
    bytes[0] = Marker.date;
    bytes.writeDoubleBE(value.getTime(), 1);
    parts.push(bytes);
  } else if (Array.isArray(value)) {
    const header = Buffer.allocUnsafe(5);
    header[0] = Marker.strictArray;
    header.writeUInt32BE(value.length, 1);
    parts.push(header);
    for (const item of value) encodeValue(item, parts);
  } else {
    parts.push(Buffer.from([Marker.object]));
    for (const [key, item] of Object.entries(value)) {
      encodeKey(key, parts);
      encodeValue(item, parts);
    }
    parts.push(Buffer.from([0, 0, Marker.objectEnd]));
  }
}

/** `values` one after the other, as a command or data message's payload. */
export function encodeAmf0(values: readonly Amf0Value[]): Buffer {
  const parts: Buffer[] = [];
  for (const value of values) encodeValue(value, parts);
  return Buffer.concat(parts);
}
