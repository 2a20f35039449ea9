// The Qt Virtual Keyboard's input panel, embedded in the kiosk window (a QQuickWidget), so it
// shows inside the kiosk on every platform, offscreen included.
import QtQuick
import QtQuick.VirtualKeyboard

Item {
    id: root
    property int panelHeight: panel.height
    property int maxPanelWidth: 1400
    InputPanel {
        id: panel
        width: Math.min(root.width, root.maxPanelWidth)
        anchors.horizontalCenter: parent.horizontalCenter
        anchors.bottom: parent.bottom
    }
}
