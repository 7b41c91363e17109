/**
 * Postal addresses in the order their country writes them ("12345 Berlin" in Germany,
 * "Springfield, IL 62701" in the US, postal code first in Japan). The layouts come from Google's
 * libaddressinput data through localized-address-format; Haven only makes sure no recorded part
 * is ever dropped: a part the country's layout has no place for is added on a line of its own.
 */
import { formatAddress } from 'localized-address-format';

export interface PostalAddress {
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postalCode: string;
  country: string;
}

/** The parts a person fills in, in the groups the address form shows. */
export type AddressPart = 'lines' | 'city' | 'region' | 'postalCode';
const PARTS: readonly AddressPart[] = ['lines', 'city', 'region', 'postalCode'];

// Markers that no layout rewrites, to see where a country places each part.
const MARKERS: Record<AddressPart, string> = {
  lines: '\u00a71',
  city: '\u00a72',
  region: '\u00a73',
  postalCode: '\u00a74',
};

/** Where the country's layout places each part: in order, and which it has no place for. */
function layoutOf(country: string): { placed: AddressPart[]; unplaced: AddressPart[] } {
  const layout = formatAddress({
    postalCountry: country,
    addressLines: [MARKERS.lines],
    locality: MARKERS.city,
    administrativeArea: MARKERS.region,
    postalCode: MARKERS.postalCode,
  }).join('\n');
  const placed = PARTS.filter((part) => layout.includes(MARKERS[part]));
  placed.sort((a, b) => layout.indexOf(MARKERS[a]) - layout.indexOf(MARKERS[b]));
  return { placed, unplaced: PARTS.filter((part) => !placed.includes(part)) };
}

/** The parts in the order the country writes them; parts it has no place for come last. */
export function addressPartOrder(country: string): AddressPart[] {
  const { placed, unplaced } = layoutOf(country);
  return [...placed, ...unplaced];
}

/** The address's lines as its country writes them, without the country itself. */
export function addressLines(address: PostalAddress): string[] {
  const lines = formatAddress({
    postalCountry: address.country,
    addressLines: [address.line1, address.line2 ?? ''].filter((line) => line !== ''),
    locality: address.city,
    administrativeArea: address.region ?? '',
    postalCode: address.postalCode,
  });
  const values: Record<Exclude<AddressPart, 'lines'>, string | undefined> = {
    city: address.city,
    region: address.region,
    postalCode: address.postalCode,
  };
  for (const part of layoutOf(address.country).unplaced) {
    const value = part === 'lines' ? undefined : values[part];
    if (value) lines.push(value);
  }
  return lines.filter((line) => line.trim() !== '');
}
