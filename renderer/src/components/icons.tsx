/** Status icons, drawn inline: colour never carries a meaning alone (icon + word + colour). */
import type { SlotState } from '../../../electron/station-api';

export function StatusIcon({ state }: { state: SlotState }) {
  const common = {
    width: '1em',
    height: '1em',
    viewBox: '0 0 24 24',
    'aria-hidden': true,
    focusable: false,
  } as const;
  switch (state) {
    case 'passed':
      return (
        <svg {...common}>
          <path
            d="M4 12.5l5 5L20 6.5"
            fill="none"
            stroke="currentColor"
            strokeWidth="3.2"
            strokeLinecap="round"
            strokeLinejoin="round"
          />
        </svg>
      );
    case 'failed':
      return (
        <svg {...common}>
          <path
            d="M6 6l12 12M18 6L6 18"
            fill="none"
            stroke="currentColor"
            strokeWidth="3.2"
            strokeLinecap="round"
          />
        </svg>
      );
    case 'cancelled':
    case 'skipped':
      return (
        <svg {...common}>
          <path d="M5 12h14" fill="none" stroke="currentColor" strokeWidth="3.2" strokeLinecap="round" />
        </svg>
      );
    case 'waiting-for-scan':
      return (
        <svg {...common}>
          <path
            d="M3 5v14M6 5v14M9 5v14M13 5v14M15 5v14M18 5v14M21 5v14"
            fill="none"
            stroke="currentColor"
            strokeWidth="1.6"
          />
        </svg>
      );
    default:
      return null;
  }
}
