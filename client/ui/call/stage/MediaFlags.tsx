import { MicOff, VideoOff } from 'lucide-react';
import { useI18n } from '../../i18n.tsx';

/** The mic-off and camera-off marks of a tile's caption (ours or a remote participant's). */
export function MediaFlags({ micOff, cameraOff }: { micOff: boolean; cameraOff: boolean }) {
  const { t } = useI18n();
  return (
    <>
      {micOff ? (
        <span className="ptile-flag" title={t('csMicOff')}>
          <MicOff aria-hidden="true" size={14} />
          <span className="sr-only">{t('csMicOff')}</span>
        </span>
      ) : null}
      {cameraOff ? (
        <span className="ptile-flag" title={t('csCameraOff')}>
          <VideoOff aria-hidden="true" size={14} />
          <span className="sr-only">{t('csCameraOff')}</span>
        </span>
      ) : null}
    </>
  );
}
